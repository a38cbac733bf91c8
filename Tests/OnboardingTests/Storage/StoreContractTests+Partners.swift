import Foundation
import Testing

@testable import Onboarding

/// The partner part of the storage contract: partners, their keys, links, and first-answer-wins idempotency.
extension StoreContractTests {
    static func partner(_ name: String, id: String? = nil) -> PartnerRecord {
        PartnerRecord(
            id: id ?? "ptn_\(name)",
            name: name,
            displayName: name.capitalized,
            returnUrls: "https://\(name).example/return\nhttps://\(name).example/settings/",
            popupOrigins: "https://\(name).example",
            webhookUrl: "https://\(name).example/hooks",
            webhookSecretSealed: "sb1.k.secret-\(name)",
            createdAt: now,
            updatedAt: now
        )
    }

    static func partnerKey(_ partnerId: String, prefix: String) -> PartnerApiKeyRecord {
        PartnerApiKeyRecord(partnerId: partnerId, prefix: prefix, keyHash: "hash-\(prefix)", createdAt: now)
    }

    @discardableResult
    static func addPartner(_ store: any OnboardingStore, _ name: String) async throws -> PartnerRecord {
        try #require(
            try await store.addPartner(
                partner(name),
                key: partnerKey("ptn_\(name)", prefix: "sok_\(name)1"),
                audit: audit(.partnerAdded, actor: .cli)
            )
        )
    }

    @Test(arguments: engines) func partnerNamesAreUniqueAndListedByName(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.addPartner(store, "zeta")
        let acme = try await Self.addPartner(store, "acme")
        let taken = try await store.addPartner(
            Self.partner("acme", id: "ptn_other"),
            key: Self.partnerKey("ptn_other", prefix: "sok_other"),
            audit: Self.audit(.partnerAdded, actor: .cli)
        )
        #expect(taken == nil)
        #expect(try await store.allPartners().map(\.name) == ["acme", "zeta"])
        #expect(try await store.partner(named: "acme") == acme)
        #expect(try await store.partner(id: "ptn_acme")?.returnURLPrefixes == ["https://acme.example/return", "https://acme.example/settings/"])
        #expect(try await store.partnerKey(prefix: "sok_other") == nil, "the refused partner's key was not kept")
        #expect(try await store.auditEvents().map(\.action) == [.partnerAdded, .partnerAdded])
    }

    @Test(arguments: engines) func keysAreFoundByPrefixUntilRevokedAndSeveralLiveAtOnce(engine: StoreEngine) async throws {
        let store = try engine.make()
        let acme = try await Self.addPartner(store, "acme")
        #expect(try await store.addPartnerKey(Self.partnerKey(acme.id, prefix: "sok_acme2"), audit: Self.audit(.partnerKeyCreated, actor: .cli)))
        #expect(try await store.partnerKey(prefix: "sok_acme1")?.partner == acme)
        #expect(try await store.partnerKey(prefix: "sok_acme2")?.key.keyHash == "hash-sok_acme2")
        #expect(try await store.partnerKeys(partnerId: acme.id).map(\.prefix) == ["sok_acme2", "sok_acme1"])

        let revoked = try await store.revokePartnerKey(
            partnerId: acme.id,
            prefix: "sok_acme1",
            now: Self.now,
            audit: Self.audit(.partnerKeyRevoked, actor: .cli)
        )
        #expect(revoked)
        #expect(try await store.partnerKey(prefix: "sok_acme1") == nil)
        #expect(try await store.partnerKey(prefix: "sok_acme2") != nil)
        let again = try await store.revokePartnerKey(
            partnerId: acme.id,
            prefix: "sok_acme1",
            now: Self.now,
            audit: Self.audit(.partnerKeyRevoked, actor: .cli)
        )
        #expect(!again, "a revoked key is not revoked twice")
        #expect(!(try await store.addPartnerKey(Self.partnerKey("ptn_gone", prefix: "sok_gone"), audit: Self.audit(.partnerKeyCreated, actor: .cli))))
    }

    @Test(arguments: engines) func keyUseIsRecordedAtMostOnceAMinute(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.addPartner(store, "acme")
        let id = try #require(try await store.partnerKey(prefix: "sok_acme1")?.key.id)
        try await store.recordPartnerKeyUse(keyId: id, now: Self.now)
        try await store.recordPartnerKeyUse(keyId: id, now: Self.now.addingTimeInterval(30))
        #expect(try await store.partnerKey(prefix: "sok_acme1")?.key.lastUsedAt == Self.now)
        try await store.recordPartnerKeyUse(keyId: id, now: Self.now.addingTimeInterval(61))
        #expect(try await store.partnerKey(prefix: "sok_acme1")?.key.lastUsedAt == Self.now.addingTimeInterval(61))
    }

    @Test(arguments: engines) func removingAPartnerTakesItsKeysAndLinksButNotItsConnections(engine: StoreEngine) async throws {
        let store = try engine.make()
        let acme = try await Self.addPartner(store, "acme")
        let link = OnboardingLinkRecord(
            id: "lnk_1",
            partnerId: acme.id,
            reference: "account-7",
            scopes: "MERCHANT_PROFILE_READ",
            returnUrl: "https://acme.example/return",
            mode: .popup,
            createdAt: Self.now,
            expiresAt: Self.now.addingTimeInterval(3600)
        )
        try await store.createOnboardingLink(link, audit: Self.audit(.linkCreated, actor: .partner(acme.id)))
        #expect(try await store.onboardingLink(id: "lnk_1") == link)
        try await Self.connect(store, "ML-A")

        #expect(try await store.removePartner(named: "acme", audit: Self.audit(.partnerRemoved, actor: .cli)) == acme)
        #expect(try await store.removePartner(named: "acme", audit: Self.audit(.partnerRemoved, actor: .cli)) == nil)
        #expect(try await store.partnerKey(prefix: "sok_acme1") == nil)
        #expect(try await store.onboardingLink(id: "lnk_1") == nil)
        #expect(try await store.allConnections().count == 1)
    }

    @Test(arguments: engines) func theSecretAndSettingsAreReplacedInPlace(engine: StoreEngine) async throws {
        let store = try engine.make()
        var acme = try await Self.addPartner(store, "acme")
        let later = Self.now.addingTimeInterval(60)
        let replaced = try await store.replacePartnerSecret(
            partnerId: acme.id,
            sealed: "sb1.k.new",
            now: later,
            audit: Self.audit(.partnerWebhookSecretRotated, actor: .cli)
        )
        #expect(replaced)
        #expect(try await store.partner(id: acme.id)?.webhookSecretSealed == "sb1.k.new")
        acme = try #require(try await store.partner(id: acme.id))
        acme.webhookUrl = nil
        acme.displayName = "Acme Payroll"
        #expect(try await store.updatePartner(acme, audit: Self.audit(.partnerUpdated, actor: .cli)))
        #expect(try await store.partner(named: "acme") == acme)
    }

    @Test(arguments: engines) func theFirstIdempotentAnswerWins(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.addPartner(store, "acme")
        let first = IdempotencyKeyRecord(partnerId: "ptn_acme", key: "k1", requestHash: "h1", status: 201, body: "{\"id\":1}", createdAt: Self.now)
        #expect(try await store.keepIdempotentAnswer(first) == first)
        var second = first
        second.body = "{\"id\":2}"
        #expect(try await store.keepIdempotentAnswer(second) == first)
        #expect(try await store.idempotentAnswer(partnerId: "ptn_acme", key: "k1") == first)
        #expect(try await store.idempotentAnswer(partnerId: "ptn_acme", key: "k2") == nil)
    }

    @Test(arguments: engines) func idempotencyKeysGoAfterADay(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.addPartner(store, "acme")
        for (key, age) in [("old", 2 * 86_400.0), ("new", 3_600.0)] {
            let answer = IdempotencyKeyRecord(
                partnerId: "ptn_acme",
                key: key,
                requestHash: "h",
                status: 201,
                body: "{}",
                createdAt: Self.now.addingTimeInterval(-age)
            )
            _ = try await store.keepIdempotentAnswer(answer)
        }
        let cutoffs = RetentionCutoffs(
            authorizationsExpiredBefore: .distantPast,
            sessionsEndedBefore: .distantPast,
            squareEventsReceivedBefore: .distantPast,
            auditBefore: .distantPast,
            idempotencyKeysBefore: Self.now.addingTimeInterval(-86_400)
        )
        #expect(try await store.deleteExpiredBatch(cutoffs, limit: 100).idempotencyKeys == 1)
        #expect(try await store.idempotentAnswer(partnerId: "ptn_acme", key: "old") == nil)
        #expect(try await store.idempotentAnswer(partnerId: "ptn_acme", key: "new") != nil)
    }

    @Test(arguments: engines) func eachChangeToAPartnersConnectionQueuesItsWebhookInTheSameWrite(engine: StoreEngine) async throws {
        let store = try engine.make()
        let acme = try await Self.addPartner(store, "acme")
        try await store.beginAuthorization(Self.authorization("s-link"), audit: Self.audit(.authorizationStarted))
        var grant = Self.grant("ML-P")
        grant.partnerLink = PartnerLinkUse(linkId: "lnk_x", partnerId: acme.id, reference: "ref-1")
        let saved = try await store.saveConnection(
            grant,
            stateHash: "s-link",
            session: MerchantSessionSeed(hash: "hash-p", csrfToken: "csrf-p", expiresAt: Self.now.addingTimeInterval(3600)),
            audit: Self.audit(.connectionConnected, merchant: "ML-P")
        )
        #expect(!saved.reconnected && saved.connection.partnerId == acme.id && saved.connection.partnerReference == "ref-1")
        let id = saved.connection.id
        let later = Self.now.addingTimeInterval(60)
        let tokens = RefreshedTokens(
            sealedAccessToken: "sb1.k.a2",
            sealedRefreshToken: nil,
            expiresAt: nil,
            refreshTokenExpiresAt: nil,
            shortLived: false
        )
        _ = try await store.saveRefreshedTokens(tokens, connectionId: id, now: later, audit: Self.audit(.tokenRefreshed, merchant: "ML-P"))
        try await store.recordRefreshFailure(
            connectionId: id,
            reason: "square=transient",
            retryAt: later.addingTimeInterval(60),
            now: later.addingTimeInterval(1),
            audit: Self.audit(.tokenRefreshFailed, merchant: "ML-P")
        )
        _ = try await store.saveRefreshedTokens(
            tokens,
            connectionId: id,
            now: later.addingTimeInterval(120),
            audit: Self.audit(.tokenRefreshed, merchant: "ML-P")
        )
        _ = try await store.markRevoked(
            connectionId: id,
            by: "partner:\(acme.id)",
            now: later.addingTimeInterval(180),
            audit: Self.audit(.connectionRevoked)
        )
        // A direct connection (no partner) queues nothing.
        try await Self.connect(store, "ML-DIRECT")

        let deliveries = try await store.webhookDeliveries(partnerId: acme.id, limit: 20).reversed()
        // The refresh after a failure queues two events in one write (refreshed, recovered), in the triggers' order.
        let types = deliveries.map(\.type)
        #expect(types.first == "connection.created" && types.last == "connection.revoked")
        #expect(
            types.sorted() == [
                "connection.created", "connection.recovered", "connection.refresh_failed", "connection.refreshed", "connection.refreshed",
                "connection.revoked",
            ]
        )
        #expect(Array(types[1...2]) == ["connection.refreshed", "connection.refresh_failed"])
        #expect(Set(deliveries.map(\.id)).count == 6 && deliveries.allSatisfy { $0.merchantId == "ML-P" })
        let last = try #require(deliveries.last)
        let revoked = try #require(try JSONSerialization.jsonObject(with: Data(last.payload.utf8)) as? [String: Any])
        let data = try #require(revoked["data"] as? [String: Any])
        #expect(data["revoked_by"] as? String == "partner:\(acme.id)" && data["reference"] as? String == "ref-1")
        #expect(try await store.pendingWebhookCount() == 6)
        #expect(try await store.webhookDeliveries(partnerId: nil, limit: 20).count == 6)
    }
}
