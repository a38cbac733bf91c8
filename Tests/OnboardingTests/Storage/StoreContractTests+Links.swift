import Foundation
import Testing

@testable import Onboarding

/// The link part of the storage contract: a link ends once with its result (and its partner hears it in the same
/// write), only an open link is cancelled, and a partner's events are read back by keyset.
extension StoreContractTests {
    static func link(_ id: String, partnerId: String, expiresIn: TimeInterval = 3600) -> OnboardingLinkRecord {
        OnboardingLinkRecord(
            id: id,
            partnerId: partnerId,
            reference: "ref-\(id)",
            scopes: "MERCHANT_PROFILE_READ",
            returnUrl: "https://\(partnerId).example/return",
            mode: .redirect,
            createdAt: now,
            expiresAt: now.addingTimeInterval(expiresIn),
            refreshUrl: "https://\(partnerId).example/return/again"
        )
    }

    /// An authorization started from `linkId`.
    static func beginLinkAuthorization(_ store: any OnboardingStore, state: String, linkId: String) async throws {
        var attempt = authorization(state)
        attempt.partnerLinkId = linkId
        try await store.beginAuthorization(attempt, audit: audit(.authorizationStarted))
    }

    @Test(arguments: engines) func aLinkEndsOnceWithItsResultAndItsPartnerHearsItInTheSameWrite(engine: StoreEngine) async throws {
        let store = try engine.make()
        let acme = try await Self.addPartner(store, "acme")
        try await store.createOnboardingLink(Self.link("lnk_1", partnerId: acme.id), audit: Self.audit(.linkCreated, actor: .partner(acme.id)))
        try await Self.beginLinkAuthorization(store, state: "s-1", linkId: "lnk_1")
        try await Self.beginLinkAuthorization(store, state: "s-2", linkId: "lnk_1")
        try await store.closeAuthorization(
            stateHash: "s-1",
            outcome: .denied,
            link: LinkCompletion(result: .denied, error: nil),
            audit: Self.audit(.authorizationDenied)
        )
        try await store.closeAuthorization(
            stateHash: "s-2",
            outcome: .exchangeFailed,
            link: LinkCompletion(result: .error, error: "code_rejected"),
            audit: Self.audit(.authorizationFailed)
        )
        let ended = try #require(try await store.onboardingLink(id: "lnk_1"))
        #expect(ended.result == .denied && ended.resultError == nil && ended.usedAt == Self.now, "the first outcome stays")
        #expect(ended.status(at: Self.now) == .completed && ended.refreshUrl == "https://ptn_acme.example/return/again")
        let events = try await store.webhookDeliveries(partnerId: acme.id, limit: 10)
        #expect(events.map(\.type) == ["onboarding_link.completed"] && events.first?.merchantId == nil)
        let first = try #require(events.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(first.payload.utf8)) as? [String: Any])
        let data = try #require(body["data"] as? [String: Any])
        #expect(data["link_id"] as? String == "lnk_1" && data["result"] as? String == "denied" && data["reference"] as? String == "ref-lnk_1")

        try await store.createOnboardingLink(Self.link("lnk_2", partnerId: acme.id), audit: Self.audit(.linkCreated, actor: .partner(acme.id)))
        try await Self.beginLinkAuthorization(store, state: "s-3", linkId: "lnk_2")
        var grant = Self.grant("ML-L")
        grant.partnerLink = PartnerLinkUse(linkId: "lnk_2", partnerId: acme.id, reference: "ref-lnk_2")
        let saved = try await store.saveConnection(
            grant,
            stateHash: "s-3",
            session: MerchantSessionSeed(hash: "hash-l", csrfToken: "csrf-l", expiresAt: Self.now.addingTimeInterval(3600)),
            audit: Self.audit(.connectionConnected, merchant: "ML-L")
        )
        #expect(saved.connection.partnerLinkId == "lnk_2")
        let connected = try #require(try await store.onboardingLink(id: "lnk_2"))
        #expect(connected.result == .connected && connected.merchantId == "ML-L")
        let newest = try await store.webhookDeliveries(partnerId: acme.id, limit: 10).reversed().map(\.type)
        #expect(newest == ["onboarding_link.completed", "connection.created", "onboarding_link.completed"])
        let created = try #require(try await store.webhookDeliveries(partnerId: acme.id, limit: 10).first { $0.type == "connection.created" })
        #expect(created.payload.contains(#""link_id":"lnk_2""#), "the connection event names the link that caused it")
    }

    @Test(arguments: engines) func onlyAnOpenLinkIsCancelledAndOnlyByItsPartner(engine: StoreEngine) async throws {
        let store = try engine.make()
        let acme = try await Self.addPartner(store, "acme")
        let zeta = try await Self.addPartner(store, "zeta")
        for (id, lifetime) in [("lnk_open", 3600.0), ("lnk_old", -1.0)] {
            try await store.createOnboardingLink(
                Self.link(id, partnerId: acme.id, expiresIn: lifetime),
                audit: Self.audit(.linkCreated, actor: .partner(acme.id))
            )
        }
        let cancel = { (id: String, partner: String) in
            try await store.cancelOnboardingLink(
                id: id,
                partnerId: partner,
                now: Self.now,
                audit: Self.audit(.linkCancelled, actor: .partner(partner))
            )
        }
        #expect(try await cancel("lnk_open", zeta.id) == nil, "another partner's link is not found")
        #expect(try await cancel("lnk_open", acme.id)?.cancelledAt == Self.now)
        #expect(try await cancel("lnk_open", acme.id)?.status(at: Self.now) == .cancelled, "a second cancel changes nothing")
        #expect(try await cancel("lnk_old", acme.id)?.status(at: Self.now) == .expired, "an expired link stays expired")
        #expect(try await cancel("lnk_none", acme.id) == nil)
        #expect(try await store.auditEvents().filter { $0.action == .linkCancelled }.count == 1)
    }

    @Test(arguments: engines) func aPartnersEventsAreReadByKeysetTypeAndAge(engine: StoreEngine) async throws {
        let store = try engine.make()
        let acme = try await Self.addPartner(store, "acme")
        let zeta = try await Self.addPartner(store, "zeta")
        for (index, merchant) in ["ML-1", "ML-2"].enumerated() {
            try await store.createOnboardingLink(Self.link("lnk_\(index)", partnerId: acme.id), audit: Self.audit(.linkCreated))
            try await Self.beginLinkAuthorization(store, state: "s-\(index)", linkId: "lnk_\(index)")
            var grant = Self.grant(merchant)
            grant.partnerLink = PartnerLinkUse(linkId: "lnk_\(index)", partnerId: acme.id, reference: "r")
            _ = try await store.saveConnection(
                grant,
                stateHash: "s-\(index)",
                session: MerchantSessionSeed(hash: "h-\(index)", csrfToken: "c", expiresAt: Self.now.addingTimeInterval(60)),
                audit: Self.audit(.connectionConnected, merchant: merchant)
            )
        }
        let past = Self.now.addingTimeInterval(-60)
        let all = try #require(try await store.partnerEvents(partnerId: acme.id, after: nil, type: nil, since: past, limit: 10))
        #expect(all.map(\.type) == ["connection.created", "onboarding_link.completed", "connection.created", "onboarding_link.completed"])
        let rest = try #require(try await store.partnerEvents(partnerId: acme.id, after: all[1].id, type: nil, since: past, limit: 10))
        #expect(rest.map(\.id) == Array(all[2...].map(\.id)))
        let page = try await store.partnerEvents(partnerId: acme.id, after: all[0].id, type: "connection.created", since: past, limit: 1)
        #expect(page?.map(\.id) == [all[2].id])
        #expect(try await store.partnerEvents(partnerId: acme.id, after: nil, type: nil, since: Self.now.addingTimeInterval(1), limit: 10) == [])
        #expect(try await store.partnerEvents(partnerId: zeta.id, after: all[0].id, type: nil, since: past, limit: 10) == nil, "not zeta's")
        #expect(try await store.partnerEvents(partnerId: acme.id, after: "msg_gone", type: nil, since: past, limit: 10) == nil)
    }
}
