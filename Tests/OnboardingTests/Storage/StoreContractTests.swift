import Configuration
import Foundation
import Testing

@testable import Onboarding

/// The storage contract: every engine behind `OnboardingStore` must pass these, on an empty database of its own.
///
/// Today the one engine is SQLite in memory; PostgreSQL joins by adding a case to `StoreEngine`.
@Suite("Store contract")
struct StoreContractTests {
    /// An engine under test, made fresh for each test.
    enum StoreEngine: String, CaseIterable, CustomTestStringConvertible {
        case sqliteInMemory

        var testDescription: String { rawValue }

        func make() throws -> any OnboardingStore {
            switch self {
            case .sqliteInMemory: try AppDatabase.inMemory()
            }
        }
    }

    static let engines = StoreEngine.allCases
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let settings = try! TokenLifeSettings(
        settings: SettingsReader(reader: ConfigReader(provider: InMemoryProvider(values: [:]))),
        squareTimeoutSeconds: 15
    )

    // MARK: Fixtures

    static func authorization(_ stateHash: String, binding: String = "binding-hash", expiresIn: TimeInterval = 600) -> AuthorizationRecord {
        AuthorizationRecord(
            stateHash: stateHash,
            sealedCodeVerifier: "sb1.k.verifier-\(stateHash)",
            scopes: "MERCHANT_PROFILE_READ",
            flow: .pkce,
            browserBindingHash: binding,
            createdAt: now,
            expiresAt: now.addingTimeInterval(expiresIn)
        )
    }

    static func audit(_ action: AuditAction, merchant: String? = nil, actor: AuditActor = .merchant) -> AuditEventRecord {
        AuditEventRecord(occurredAt: now, actor: actor, action: action, merchantId: merchant)
    }

    static func grant(_ merchant: String, access: String = "sb1.k.access", at: Date = now, environment: String = "sandbox") -> ConnectionGrant {
        ConnectionGrant(
            environment: environment,
            merchantId: merchant,
            sealedAccessToken: access,
            sealedRefreshToken: "sb1.k.refresh-\(access)",
            tokenType: "bearer",
            expiresAt: at.addingTimeInterval(30 * 86_400),
            refreshTokenExpiresAt: at.addingTimeInterval(90 * 86_400),
            scopes: "MERCHANT_PROFILE_READ",
            scopesConfirmed: true,
            shortLived: false,
            flow: .pkce,
            receivedAt: at
        )
    }

    /// A stored connection for `merchant`, through the merchant flow's own write.
    @discardableResult
    static func connect(
        _ store: any OnboardingStore,
        _ merchant: String,
        session: String? = nil,
        at: Date = now
    ) async throws
        -> ConnectionRecord
    {
        let session = session ?? merchant
        var attempt = authorization("state-\(merchant)-\(session)")
        (attempt.createdAt, attempt.expiresAt) = (at, at.addingTimeInterval(600))
        try await store.beginAuthorization(attempt, audit: AuditEventRecord(occurredAt: at, actor: .merchant, action: .authorizationStarted))
        return try await store.saveConnection(
            grant(merchant, access: "sb1.k.access-\(session)", at: at),
            stateHash: "state-\(merchant)-\(session)",
            session: MerchantSessionSeed(hash: "hash-\(session)", csrfToken: "csrf-\(session)", expiresAt: at.addingTimeInterval(3600)),
            audit: AuditEventRecord(occurredAt: at, actor: .merchant, action: .connectionConnected, merchantId: merchant)
        ).connection
    }

    // MARK: Authorizations

    @Test(arguments: engines) func aStateIsAcceptedOnceThenReported(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await store.beginAuthorization(Self.authorization("s1"), audit: Self.audit(.authorizationStarted))
        guard case .accepted(let first) = try await store.consumeAuthorization(stateHash: "s1", browserBindingHash: "binding-hash", now: Self.now)
        else {
            Issue.record("first use must be accepted")
            return
        }
        #expect(first.consumedAt == Self.now && first.outcome == .consumed)
        #expect(try await store.consumeAuthorization(stateHash: "s1", browserBindingHash: "binding-hash", now: Self.now) == .reused)
        #expect(try await store.consumeAuthorization(stateHash: "nope", browserBindingHash: "binding-hash", now: Self.now) == .unknown)
        #expect(try await store.authorization(stateHash: "s1")?.outcome == .consumed)
    }

    @Test(arguments: engines) func anExpiredOrForeignStateIsRefusedAndNotConsumed(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await store.beginAuthorization(Self.authorization("old", expiresIn: 60), audit: Self.audit(.authorizationStarted))
        try await store.beginAuthorization(Self.authorization("mine"), audit: Self.audit(.authorizationStarted))
        let later = Self.now.addingTimeInterval(61)
        #expect(try await store.consumeAuthorization(stateHash: "old", browserBindingHash: "binding-hash", now: later) == .expired)
        #expect(try await store.consumeAuthorization(stateHash: "mine", browserBindingHash: "other", now: Self.now) == .otherBrowser)
        #expect(try await store.consumeAuthorization(stateHash: "mine", browserBindingHash: nil, now: Self.now) == .otherBrowser)
        #expect(try await store.authorization(stateHash: "mine")?.consumedAt == nil, "a refusal does not spend the state")
        guard case .accepted = try await store.consumeAuthorization(stateHash: "mine", browserBindingHash: "binding-hash", now: Self.now)
        else {
            Issue.record("the right browser still completes it")
            return
        }
    }

    @Test(arguments: engines) func closingAnAuthorizationRecordsItsOutcomeAndAudit(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await store.beginAuthorization(Self.authorization("s1"), audit: Self.audit(.authorizationStarted))
        try await store.closeAuthorization(stateHash: "s1", outcome: .denied, link: nil, audit: Self.audit(.authorizationDenied))
        #expect(try await store.authorization(stateHash: "s1")?.outcome == .denied)
        #expect(try await store.auditEvents().map(\.action) == [.authorizationStarted, .authorizationDenied])
        #expect(try await store.counts() == StoreCounts(authorizations: 1, connections: 0))
    }

    // MARK: Connections and sessions

    @Test(arguments: engines) func reconnectingUpdatesTheOneRowAndOpensANewSession(engine: StoreEngine) async throws {
        let store = try engine.make()
        let first = try await Self.connect(store, "MLA", session: "one")
        #expect(first.id > 0 && first.status == .active && first.sealedAccessToken == "sb1.k.access-one")
        #expect(try await store.authorization(stateHash: "state-MLA-one")?.outcome == .connected)
        #expect(try await store.authorization(stateHash: "state-MLA-one")?.merchantId == "MLA")

        let later = Self.now.addingTimeInterval(3600)
        let second = try await Self.connect(store, "MLA", session: "two", at: later)
        #expect(second.id == first.id)
        #expect(second.sealedAccessToken == "sb1.k.access-two" && second.connectedAt == later)
        #expect(try await store.allConnections().count == 1)
        #expect(try await store.merchantSession(hash: "hash-one", now: Self.now)?.connection.sealedAccessToken == "sb1.k.access-two")
        let session = try #require(try await store.merchantSession(hash: "hash-two", now: later))
        #expect(session.session.csrfToken == "csrf-two" && session.connection.id == first.id)
        #expect(try await store.merchantSession(hash: "hash-two", now: later.addingTimeInterval(3600)) == nil, "sessions end")
        #expect(try await store.merchantSession(hash: "unknown", now: later) == nil)
        #expect(try await store.connection(environment: "sandbox", merchantId: "MLA")?.id == first.id)
        #expect(try await store.connection(environment: "production", merchantId: "MLA") == nil)
    }

    @Test(arguments: engines) func aRevocationIsRecordedOnceAndConfirmedAfter(engine: StoreEngine) async throws {
        let store = try engine.make()
        let connection = try await Self.connect(store, "MLA")
        let id = connection.id
        let first = try await store.markRevoked(
            connectionId: id,
            by: "merchant",
            now: Self.now,
            audit: Self.audit(.connectionRevoked, merchant: "MLA")
        )
        #expect(first == .revoked)
        let revoked = try #require(try await store.connection(id: id))
        #expect(revoked.status == .revoked && revoked.revokedBy == "merchant" && revoked.revokedAt == Self.now)
        #expect(revoked.sealedAccessToken == nil && revoked.sealedRefreshToken == nil)
        let again = try await store.markRevoked(connectionId: id, by: "square", now: Self.now, audit: Self.audit(.connectionRevoked, merchant: "MLA"))
        #expect(again == .alreadyRevoked)
        #expect(try await store.connection(id: id)?.revokedBy == "merchant", "the first revocation stands")
        let actions = try await store.auditEvents(merchantId: "MLA").map(\.action)
        #expect(actions == [.connectionConnected, .connectionRevoked, .revocationConfirmed])
        #expect(try await store.markRevoked(connectionId: 999, by: "merchant", now: Self.now, audit: Self.audit(.connectionRevoked)) == .notFound)
    }

    @Test(arguments: engines) func oneCallerAtATimeMayRevoke(engine: StoreEngine) async throws {
        let store = try engine.make()
        let id = try await Self.connect(store, "MLA").id
        let until = Self.now.addingTimeInterval(32)
        guard case .claimed(let connection) = try await store.claimRevocation(connectionId: id, owner: "a", until: until, now: Self.now)
        else {
            Issue.record("the first caller claims")
            return
        }
        #expect(connection.revokeClaimOwner == "a" && connection.status == .active)
        #expect(try await store.claimRevocation(connectionId: id, owner: "b", until: until, now: Self.now) == .busy(until: until))

        // Square's webhook while our revoke is in flight confirms it rather than revoking a second time.
        let event = SquareEventRecord(eventId: "e1", type: "oauth.authorization.revoked", merchantId: "MLA", receivedAt: Self.now)
        #expect(try await store.applySquareEvent(event, environment: "sandbox", revokedBy: "application") == .confirmed(merchantId: "MLA"))
        #expect(try await store.connection(id: id)?.status == .active)

        try await store.releaseRevocationClaim(connectionId: id, owner: "b")
        #expect(try await store.connection(id: id)?.revokeClaimOwner == "a", "only the owner releases")
        try await store.releaseRevocationClaim(connectionId: id, owner: "a")
        guard case .claimed = try await store.claimRevocation(connectionId: id, owner: "b", until: until, now: Self.now)
        else {
            Issue.record("a released claim can be taken")
            return
        }
        let lapsed = until.addingTimeInterval(1)
        guard case .claimed = try await store.claimRevocation(connectionId: id, owner: "c", until: lapsed.addingTimeInterval(32), now: lapsed)
        else {
            Issue.record("a lapsed claim can be taken over")
            return
        }

        _ = try await store.markRevoked(connectionId: id, by: "merchant", now: lapsed, audit: Self.audit(.connectionRevoked))
        let revoked = try #require(try await store.connection(id: id))
        #expect(revoked.revokeClaimOwner == nil && revoked.revokeClaimUntil == nil)
        #expect(try await store.claimRevocation(connectionId: id, owner: "d", until: until, now: lapsed) == .alreadyRevoked(revoked))
        #expect(try await store.claimRevocation(connectionId: 999, owner: "d", until: until, now: lapsed) == .notFound)
    }

    // MARK: Square events

    @Test(arguments: engines) func aSquareRevocationIsAppliedOnceAndConfirmsAnEarlierOne(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.connect(store, "MLA")
        try await Self.connect(store, "MLB")
        func event(_ id: String, _ merchant: String) -> SquareEventRecord {
            SquareEventRecord(eventId: id, type: "oauth.authorization.revoked", merchantId: merchant, receivedAt: Self.now)
        }
        #expect(try await store.applySquareEvent(event("e1", "MLA"), environment: "sandbox", revokedBy: "merchant") == .revoked(merchantId: "MLA"))
        #expect(try await store.applySquareEvent(event("e1", "MLA"), environment: "sandbox", revokedBy: "merchant") == .duplicate)
        #expect(try await store.applySquareEvent(event("e2", "MLA"), environment: "sandbox", revokedBy: "merchant") == .confirmed(merchantId: "MLA"))
        #expect(try await store.applySquareEvent(event("e3", "MLB"), environment: "production", revokedBy: "merchant") == .noChange)
        #expect(try await store.applySquareEvent(event("e4", "MLZ"), environment: "sandbox", revokedBy: "merchant") == .noChange)
        let other = SquareEventRecord(eventId: "e5", type: "payment.created", merchantId: "MLB", receivedAt: Self.now)
        #expect(try await store.applySquareEvent(other, environment: "sandbox", revokedBy: nil) == .noChange)
        #expect(try await store.connection(environment: "sandbox", merchantId: "MLB")?.status == .active)
        let audits = try await store.auditEvents(merchantId: "MLA").filter { $0.actor == .square }.map(\.action)
        #expect(audits == [.connectionRevoked, .revocationConfirmed])
    }

    // MARK: Sealed values and environment names

    @Test(arguments: engines) func sealedValuesArePagedAndReplacedOnlyWhereUnchanged(engine: StoreEngine) async throws {
        let store = try engine.make()
        for merchant in ["MLA", "MLB", "MLC"] { try await Self.connect(store, merchant, session: merchant) }
        let column = try #require(SealedColumn.all.first { $0.name == "connection.sealedAccessToken" })
        #expect(try await store.sealedValueCounts(in: column) == [KeyIDCount(keyID: "k", count: 3)])
        let page = try await store.sealedValuesNeedingResealing(in: column, activeKeyID: "new", after: nil, limit: 2)
        #expect(page.map(\.sealed) == ["sb1.k.access-MLA", "sb1.k.access-MLB"])
        #expect(page.first?.context == TokenVault.Context.accessToken(environment: "sandbox", merchantId: "MLA"))
        let rest = try await store.sealedValuesNeedingResealing(in: column, activeKeyID: "new", after: page.last?.rowKey, limit: 2)
        #expect(rest.map(\.sealed) == ["sb1.k.access-MLC"])

        _ = try await store.markRevoked(connectionId: 2, by: "merchant", now: Self.now, audit: Self.audit(.connectionRevoked))
        let written = try await store.replaceSealedValues(in: column, page.map { Resealing(original: $0, resealed: "sb1.new.x") })
        #expect(written.resealed == 1 && written.skipped == 1)
        #expect(try await store.sealedValueCounts(in: column) == [KeyIDCount(keyID: "k", count: 1), KeyIDCount(keyID: "new", count: 1)])
        #expect(
            try await store.sealedValuesNeedingResealing(in: column, activeKeyID: "new", after: nil, limit: 10).map(\.sealed) == ["sb1.k.access-MLC"]
        )
    }

    @Test(arguments: engines) func rekeyingMovesAllRowsOrNone(engine: StoreEngine) async throws {
        let store = try engine.make()
        let a = try await Self.connect(store, "MLA", session: "a").id
        let b = try await Self.connect(store, "MLB", session: "b").id
        #expect(try await store.connectionEnvironments() == ["sandbox"])
        let stale = ConnectionRekey(
            connectionId: b,
            fromEnvironment: "http://old",
            toEnvironment: "custom",
            sealedAccessToken: nil,
            sealedRefreshToken: nil
        )
        let good = ConnectionRekey(
            connectionId: a,
            fromEnvironment: "sandbox",
            toEnvironment: "custom",
            sealedAccessToken: "sb1.k.A",
            sealedRefreshToken: nil
        )
        await #expect(throws: StorageError.self) {
            try await store.rekeyConnections([good, stale], audit: Self.audit(.environmentRekeyed, actor: .system))
        }
        #expect(try await store.connectionEnvironments() == ["sandbox"], "nothing moved")
        #expect(try await !store.auditEvents().contains { $0.action == .environmentRekeyed })
        try await store.rekeyConnections([good], audit: Self.audit(.environmentRekeyed, actor: .system))
        #expect(try await store.connectionEnvironments() == ["custom", "sandbox"])
        let moved = try #require(try await store.connection(environment: "custom", merchantId: "MLA"))
        #expect(moved.id == a && moved.sealedAccessToken == "sb1.k.A" && moved.sealedRefreshToken == nil)
        #expect(try await store.connections(inEnvironments: ["sandbox"]).map(\.id) == [b])
    }

    // MARK: Audit and health

    @Test(arguments: engines) func theAuditLogKeepsOrderAndFiltersByMerchant(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await store.appendAudit(Self.audit(.keysRotated, actor: .cli))
        try await store.appendAudit(Self.audit(.tokenRefreshed, merchant: "MLA", actor: .admin("alice")))
        try await store.appendAudit(Self.audit(.tokenRefreshed, merchant: "MLB", actor: .partner("acme")))
        let all = try await store.auditEvents()
        #expect(all.map(\.actor) == [.cli, .admin("alice"), .partner("acme")])
        #expect(all.compactMap(\.id) == all.compactMap(\.id).sorted() && all.count == 3)
        #expect(try await store.auditEvents(merchantId: "MLB").map(\.actor) == [.partner("acme")])
        try await store.checkWritable()
    }
}
