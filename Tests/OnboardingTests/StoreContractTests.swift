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
        )
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
        try await store.closeAuthorization(stateHash: "s1", outcome: .denied, audit: Self.audit(.authorizationDenied))
        #expect(try await store.authorization(stateHash: "s1")?.outcome == .denied)
        #expect(try await store.auditEvents().map(\.action) == [.authorizationStarted, .authorizationDenied])
        #expect(try await store.counts() == StoreCounts(authorizations: 1, connections: 0))
    }

    // MARK: Connections and sessions

    @Test(arguments: engines) func reconnectingUpdatesTheOneRowAndOpensANewSession(engine: StoreEngine) async throws {
        let store = try engine.make()
        let first = try await Self.connect(store, "MLA", session: "one")
        #expect(first.id != nil && first.status == .active && first.sealedAccessToken == "sb1.k.access-one")
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
        let id = try #require(connection.id)
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
        let id = try #require(try await Self.connect(store, "MLA").id)
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

    // MARK: Token life

    @Test(arguments: engines) func aLeaseIsExclusiveUntilItLapses(engine: StoreEngine) async throws {
        let store = try engine.make()
        let id = try #require(try await Self.connect(store, "MLA").id)
        let s = Self.settings
        #expect(try await store.leaseForRefresh(connectionId: id, owner: "a", settings: s, force: false, now: Self.now) == .failure(.notDue))
        guard case .success(let lease) = try await store.leaseForRefresh(connectionId: id, owner: "a", settings: s, force: true, now: Self.now)
        else {
            Issue.record("a forced lease is granted")
            return
        }
        #expect(lease.owner == "a" && !lease.previousAttemptInterrupted)
        let busy = try await store.leaseForRefresh(connectionId: id, owner: "b", settings: s, force: true, now: Self.now)
        #expect(busy == .failure(.busy(until: Self.now.addingTimeInterval(s.leaseDuration))))
        let lapsed = Self.now.addingTimeInterval(s.leaseDuration + 1)
        guard case .success(let second) = try await store.leaseForRefresh(connectionId: id, owner: "b", settings: s, force: true, now: lapsed)
        else {
            Issue.record("a lapsed lease can be taken over")
            return
        }
        #expect(second.previousAttemptInterrupted)
        try await store.releaseLease(connectionId: id, owner: "a")
        #expect(try await store.connection(id: id)?.refreshLeaseOwner == "b", "only the holder releases")
        try await store.releaseLease(connectionId: id, owner: "b")
        #expect(try await store.connection(id: id)?.refreshLeaseUntil == nil)
        #expect(try await store.leaseForRefresh(connectionId: 999, owner: "a", settings: s, force: true, now: Self.now) == .failure(.notFound))
    }

    @Test(arguments: engines) func dueConnectionsAreTheOldOnesFreeOfLeaseAndBackoff(engine: StoreEngine) async throws {
        let store = try engine.make()
        let old = try #require(try await Self.connect(store, "MLOLD", at: Self.now.addingTimeInterval(-8 * 86_400)).id)
        try await Self.connect(store, "MLNEW")
        let due = try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil)
        #expect(due.map(\.merchantId) == ["MLOLD"])
        try await store.recordRefreshFailure(
            connectionId: old,
            reason: "Square answered HTTP 503",
            retryAt: Self.now.addingTimeInterval(60),
            now: Self.now,
            audit: Self.audit(.tokenRefreshFailed, merchant: "MLOLD", actor: .system)
        )
        let failed = try #require(try await store.connection(id: old))
        #expect(failed.refreshFailureCount == 1 && failed.lastError == "Square answered HTTP 503")
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil).isEmpty, "backing off")
        let retry = Self.now.addingTimeInterval(61)
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: retry, merchantId: "MLOLD").map(\.id) == [old])
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: retry, merchantId: "MLNEW").isEmpty)
    }

    @Test(arguments: engines) func theDatabaseChoosesExactlyTheConnectionsTheSettingsCallDue(engine: StoreEngine) async throws {
        let store = try engine.make()
        // Connected 0 to 39 days ago, one a day; some expired, some leased, some backing off, one revoked.
        for day in 0..<40 {
            let id = try #require(try await Self.connect(store, "ML\(day)", at: Self.now.addingTimeInterval(TimeInterval(-day) * 86_400)).id)
            switch day % 5 {
            case 1: try await store.markAccessTokenExpired(connectionId: id, now: Self.now, audit: Self.audit(.tokenExpired))
            case 2: _ = try await store.leaseForRefresh(connectionId: id, owner: "w", settings: Self.settings, force: true, now: Self.now)
            case 3:
                try await store.recordRefreshFailure(
                    connectionId: id,
                    reason: "503",
                    retryAt: Self.now.addingTimeInterval(60),
                    now: Self.now,
                    audit: Self.audit(.tokenRefreshFailed)
                )
            default:
                if day == 35 {
                    _ = try await store.markRevoked(connectionId: id, by: "merchant", now: Self.now, audit: Self.audit(.connectionRevoked))
                }
            }
        }
        let all = try await store.allConnections()
        let expected = all.filter {
            ConnectionStatus.refreshable.contains($0.status) && $0.sealedRefreshToken != nil
                && ($0.refreshLeaseUntil.map { $0 <= Self.now } ?? true) && ($0.nextRefreshAt.map { $0 <= Self.now } ?? true)
                && Self.settings.isDue($0, now: Self.now)
        }
        let chosen = try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil)
        #expect(Set(chosen.map(\.id)) == Set(expected.map(\.id)))
        #expect(expected.count > 10 && expected.count < 40, "the data has due and not-due rows")
        #expect(try await store.countConnectionsDueForRefresh(settings: Self.settings, now: Self.now) == expected.count)
        let firstTen = try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil, limit: 10)
        #expect(firstTen.map(\.id) == Array(chosen.prefix(10)).map(\.id), "a limit takes the head of the same order")
    }

    @Test(arguments: engines) func refreshedTokensReplaceTheOldAndClearFailures(engine: StoreEngine) async throws {
        let store = try engine.make()
        let id = try #require(try await Self.connect(store, "MLA").id)
        _ = try await store.leaseForRefresh(connectionId: id, owner: "a", settings: Self.settings, force: true, now: Self.now)
        let tokens = RefreshedTokens(
            sealedAccessToken: "sb1.k.new-access",
            sealedRefreshToken: nil,
            expiresAt: Self.now.addingTimeInterval(86_400),
            refreshTokenExpiresAt: nil,
            shortLived: false
        )
        #expect(try await store.saveRefreshedTokens(tokens, connectionId: id, now: Self.now, audit: Self.audit(.tokenRefreshed, actor: .system)))
        let saved = try #require(try await store.connection(id: id))
        #expect(saved.sealedAccessToken == "sb1.k.new-access" && saved.sealedRefreshToken == "sb1.k.refresh-sb1.k.access-MLA")
        #expect(saved.refreshLeaseUntil == nil && saved.lastRefreshedAt == Self.now && saved.refreshFailureCount == 0)

        _ = try await store.markRevoked(connectionId: id, by: "merchant", now: Self.now, audit: Self.audit(.connectionRevoked))
        #expect(try await !store.saveRefreshedTokens(tokens, connectionId: id, now: Self.now, audit: Self.audit(.tokenRefreshed)))
        #expect(try await store.connection(id: id)?.sealedAccessToken == nil, "a revoked connection gets no tokens back")
    }

    @Test(arguments: engines) func needsReauthNeverReopensARevokedConnection(engine: StoreEngine) async throws {
        let store = try engine.make()
        let active = try #require(try await Self.connect(store, "MLA").id)
        let revoked = try #require(try await Self.connect(store, "MLB").id)
        _ = try await store.markRevoked(connectionId: revoked, by: "square", now: Self.now, audit: Self.audit(.connectionRevoked))
        for id in [active, revoked] {
            try await store.markNeedsReauth(connectionId: id, reason: "refused", now: Self.now, audit: Self.audit(.tokenNeedsReauth))
        }
        #expect(try await store.connection(id: active)?.status == .needsReauth)
        #expect(try await store.connection(id: active)?.lastError == "refused")
        #expect(try await store.connection(id: revoked)?.status == .revoked)
        _ = try await store.leaseForRefresh(connectionId: active, owner: "a", settings: Self.settings, force: true, now: Self.now)
        #expect(
            try await store.leaseForRefresh(connectionId: active, owner: "a", settings: Self.settings, force: true, now: Self.now)
                == .failure(.notRefreshable(status: .needsReauth))
        )
    }

    @Test(arguments: engines) func statusChecksFindTheUncheckedAndRecordWhatSquareSaid(engine: StoreEngine) async throws {
        let store = try engine.make()
        let id = try #require(try await Self.connect(store, "MLA").id)
        let cutoff = Self.now.addingTimeInterval(3600)
        #expect(try await store.connectionsDueForStatusCheck(checkedBefore: Self.now).isEmpty, "checked when it connected")
        #expect(try await store.connectionsDueForStatusCheck(checkedBefore: cutoff).map(\.id) == [id])
        try await store.recordHealthyStatus(connectionId: id, scopes: "PAYMENTS_READ", expiresAt: nil, now: cutoff)
        let checked = try #require(try await store.connection(id: id))
        #expect(checked.scopes == "PAYMENTS_READ" && checked.lastCheckedAt == cutoff)
        try await store.markAccessTokenExpired(connectionId: id, now: cutoff, audit: Self.audit(.tokenExpired, actor: .system))
        #expect(try await store.connection(id: id)?.status == .expired)
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: cutoff, merchantId: nil).map(\.id) == [id])
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
        let a = try #require(try await Self.connect(store, "MLA", session: "a").id)
        let b = try #require(try await Self.connect(store, "MLB", session: "b").id)
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

    // MARK: Dashboard reads

    /// 30 merchants ML00…ML29 connected an hour apart, every third needing re-authorization, expiries spread out.
    static func seedDashboard(_ store: any OnboardingStore) async throws -> [ConnectionRecord] {
        for index in 0..<30 {
            let merchant = "ML" + (index < 10 ? "0" : "") + String(index)
            let at = now.addingTimeInterval(TimeInterval(-index * 3600))
            let id = try #require(try await connect(store, merchant, at: at).id)
            if index % 3 == 0 {
                try await store.markNeedsReauth(connectionId: id, reason: "refused", now: at, audit: audit(.tokenNeedsReauth))
            }
        }
        return try await store.allConnections()
    }

    /// Every page of `query`, followed to the end.
    static func allPages(_ store: any OnboardingStore, _ query: ConnectionQuery) async throws -> [ConnectionRecord] {
        var query = query
        var rows: [ConnectionRecord] = []
        for _ in 0..<100 {
            let page = try await store.connections(matching: query)
            rows += page.connections
            guard let next = page.next else { return rows }
            #expect(ConnectionCursor(token: next.token) == next, "the cursor survives the query string")
            query.after = next
        }
        Issue.record("paging did not end")
        return rows
    }

    @Test(arguments: engines) func pagingVisitsEveryConnectionOnceInEachOrder(engine: StoreEngine) async throws {
        let store = try engine.make()
        let all = try await Self.seedDashboard(store)
        let recent = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", sort: .recent, limit: 7))
        #expect(recent.map(\.merchantId) == all.sorted { $0.connectedAt > $1.connectedAt }.map(\.merchantId))
        let byMerchant = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", sort: .merchant, limit: 4))
        #expect(byMerchant.map(\.merchantId) == all.map(\.merchantId).sorted())
        let byExpiry = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", sort: .expiry, limit: 9))
        #expect(byExpiry.map(\.merchantId) == all.sorted { ($0.expiresAt!, $0.id!) < ($1.expiresAt!, $1.id!) }.map(\.merchantId))
        let firstPage = try await store.connections(matching: ConnectionQuery(environment: "sandbox", limit: 30))
        #expect(firstPage.connections.count == 30 && firstPage.next == nil, "no next page past the end")
        #expect(try await store.connections(matching: ConnectionQuery(environment: "production")).connections.isEmpty)
    }

    @Test(arguments: engines) func filtersCombineWithPaging(engine: StoreEngine) async throws {
        let store = try engine.make()
        _ = try await Self.seedDashboard(store)
        let reauth = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", status: .needsReauth, limit: 3))
        #expect(reauth.count == 10 && reauth.allSatisfy { $0.status == .needsReauth })
        let search = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", search: "ML1", limit: 4))
        #expect(Set(search.map(\.merchantId)) == Set((10...19).map { "ML\($0)" }))
        let both = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", search: "ML1", status: .needsReauth))
        #expect(Set(both.map(\.merchantId)) == ["ML12", "ML15", "ML18"])
        for literal in ["%", "ML_", "' OR 1=1 --", "<b>ML1</b>", "ml1"] {
            #expect(try await store.connections(matching: ConnectionQuery(environment: "sandbox", search: literal)).connections.isEmpty, "\(literal)")
        }
    }

    @Test(arguments: engines) func theOverviewCountsWhatTheOperatorOpensWith(engine: StoreEngine) async throws {
        let store = try engine.make()
        _ = try await Self.seedDashboard(store)
        for _ in 0..<2 { try await store.appendAudit(Self.audit(.tokenRefreshFailed, merchant: "ML01", actor: .system)) }
        var old = Self.audit(.tokenRefreshFailed, actor: .system)
        old.occurredAt = Self.now.addingTimeInterval(-2 * 86_400)
        try await store.appendAudit(old)
        // Tokens expire 30 days after connecting: those connected 0-29 hours ago all expire within 31 days.
        let overview = try await store.connectionOverview(
            environment: "sandbox",
            now: Self.now,
            expiringBefore: Self.now.addingTimeInterval(30 * 86_400 - 10 * 3600 + 1),
            failuresSince: Self.now.addingTimeInterval(-86_400)
        )
        #expect(overview.countsByStatus == [.active: 20, .needsReauth: 10])
        #expect(overview.expiringSoon == (10...29).filter { $0 % 3 != 0 }.count, "active ones only, within the window")
        #expect(overview.refreshFailures == 2)
    }

    @Test(arguments: engines) func theAuditLogPagesNewestFirstWithFilters(engine: StoreEngine) async throws {
        let store = try engine.make()
        _ = try await Self.seedDashboard(store)
        try await store.appendAudit(Self.audit(.tokenRefreshed, merchant: "ML05", actor: .admin("alice")))
        let newest = try await store.auditEvents(matching: AuditQuery(limit: 5))
        #expect(newest.count == 5 && newest.first?.actor == .admin("alice"))
        #expect(newest.compactMap(\.id) == newest.compactMap(\.id).sorted(by: >))
        let older = try await store.auditEvents(matching: AuditQuery(limit: 5, beforeId: newest.last?.id))
        #expect(older.allSatisfy { $0.id! < newest.last!.id! })
        #expect(try await store.auditEvents(matching: AuditQuery(actor: .admin("alice"))).count == 1)
        #expect(try await store.auditEvents(matching: AuditQuery(merchantId: "ML05")).map(\.action) == [.tokenRefreshed, .connectionConnected])
        #expect(try await store.auditEvents(matching: AuditQuery(action: .tokenNeedsReauth)).count == 10)
    }

    // MARK: Retention

    @Test(arguments: engines) func retentionDeletesOnlyWhatIsOlderThanItsCutoffInBatches(engine: StoreEngine) async throws {
        let store = try engine.make()
        let old = Self.now.addingTimeInterval(-100 * 86_400)
        try await Self.connect(store, "MLOLD", at: old)
        try await Self.connect(store, "MLNEW")
        for id in ["e-old-1", "e-old-2"] {
            _ = try await store.applySquareEvent(
                SquareEventRecord(eventId: id, type: "payment.created", merchantId: nil, receivedAt: old),
                environment: "sandbox",
                revokedBy: nil
            )
        }
        _ = try await store.applySquareEvent(
            SquareEventRecord(eventId: "e-new", type: "payment.created", merchantId: nil, receivedAt: Self.now),
            environment: "sandbox",
            revokedBy: nil
        )
        let cutoff = Self.now.addingTimeInterval(-86_400)
        let cutoffs = RetentionCutoffs(
            authorizationsExpiredBefore: cutoff,
            sessionsEndedBefore: cutoff,
            squareEventsReceivedBefore: cutoff,
            auditBefore: cutoff
        )
        let first = try await store.deleteExpiredBatch(cutoffs, limit: 1)
        #expect(first == RetentionCounts(authorizations: 1, sessions: 1, squareEvents: 1, auditEvents: 1))
        let second = try await store.deleteExpiredBatch(cutoffs, limit: 10)
        #expect(second == RetentionCounts(authorizations: 0, sessions: 0, squareEvents: 1, auditEvents: 1))
        #expect(try await store.deleteExpiredBatch(cutoffs, limit: 10).total == 0)

        #expect(try await store.authorization(stateHash: "state-MLNEW-MLNEW") != nil)
        #expect(try await store.authorization(stateHash: "state-MLOLD-MLOLD") == nil)
        #expect(try await store.merchantSession(hash: "hash-MLNEW", now: Self.now) != nil)
        #expect(try await store.allConnections().count == 2, "connections are never swept")
        #expect(try await store.auditEvents().map(\.occurredAt).allSatisfy { $0 >= cutoff })
        let retried = SquareEventRecord(eventId: "e-new", type: "payment.created", merchantId: nil, receivedAt: Self.now)
        #expect(try await store.applySquareEvent(retried, environment: "sandbox", revokedBy: nil) == .duplicate, "recent ids kept")
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
        try await store.ping()
    }
}
