import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Onboarding

/// Partners and their webhook deliveries in the dashboard: visible to viewers, sent again by operators only.
@Suite("Admin: partners and webhook deliveries")
struct AdminPartnersTests {
    typealias H = ServiceHarness

    /// A partner whose endpoint refuses connections, with one delivery given up on after its retry window.
    static func failedDelivery(_ h: H) async throws -> (TestPartner, WebhookDeliveryRecord) {
        let partner = try await TestPartner.add(h, webhookURL: "http://127.0.0.1:9/hooks")
        let store = try h.database()
        try await h.withService(["webhooks.enabled": "false"]) { browser in
            _ = try await partner.connect(h, browser)
        }
        // The connect queues connection.created and onboarding_link.completed: both are given up on.
        let queued = try await store.webhookDeliveries(partnerId: partner.record.id, limit: 10)
        #expect(queued.map(\.type) == ["onboarding_link.completed", "connection.created"])
        for delivery in queued {
            try await store.recordWebhookAttemptFailed(
                id: delivery.id,
                status: nil,
                error: "could not reach the endpoint",
                retryAt: nil,
                now: Date(),
                audit: AuditEventRecord(occurredAt: Date(), actor: .system, action: .webhookEndpointFailing, detail: "test")
            )
        }
        let created = try #require(try await store.webhookDeliveries(partnerId: partner.record.id, limit: 10).last)
        return (partner, created)
    }

    @Test func viewersSeePartnersKeysAndDeliveriesButCannotSendAgain() async throws {
        try await H.run { h in
            let (partner, delivery) = try await Self.failedDelivery(h)
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages(["webhooks.enabled": "false"]) { browser, _ in
                let vera = try await AdminRealmTests.signedIn("vera", on: browser)
                let page = try await vera.get("/admin/partners")
                #expect(page.status == .ok)
                #expect(page.html.contains("Acme Payroll") && page.html.contains(String(partner.apiKey.prefix(12)) + "…"))
                #expect(!page.html.contains(partner.apiKey), "a key is shown by its prefix only")
                #expect(page.html.contains("failing since"))
                #expect(page.html.contains(delivery.id) && page.html.contains("connection.created") && page.html.contains(">failed<"))
                #expect(!page.html.contains("Send again"), "no button for a viewer")
                let csrf = try await vera.adminCSRFToken()
                let pressed = try await vera.post("/admin/webhooks/\(delivery.id)/resend", form: ["csrf_token": csrf])
                #expect(pressed.status == .forbidden)
                #expect(try await h.database().pendingWebhookCount() == 0, "nothing was queued")
            }
        }
    }

    @Test func anOperatorSendsAFailedDeliveryAgainAndTheAuditLogNamesThem() async throws {
        try await H.run { h in
            let (_, delivery) = try await Self.failedDelivery(h)
            try await h.addAdmin("otto", role: .operator)
            try await h.withAdminPages(["webhooks.enabled": "false"]) { browser, _ in
                let otto = try await AdminRealmTests.signedIn("otto", on: browser)
                let page = try await otto.get("/admin/partners")
                #expect(page.html.contains("Send again"))
                let forged = try await otto.post("/admin/webhooks/\(delivery.id)/resend", form: ["csrf_token": "forged"])
                #expect(forged.status == .forbidden)
                let csrf = try await otto.adminCSRFToken()
                let unknown = try await otto.post("/admin/webhooks/msg_nothing/resend", form: ["csrf_token": csrf])
                #expect(unknown.status == .notFound)
                let pressed = try await otto.post("/admin/webhooks/\(delivery.id)/resend", form: ["csrf_token": csrf])
                #expect(pressed.status == .seeOther)
                let after = try await otto.get(try #require(pressed.headers[.location]))
                #expect(after.html.contains("is queued to be sent again"))
                let store = try h.database()
                #expect(try await store.pendingWebhookCount() == 1)
                let audit = try await store.auditEvents().filter { $0.action == .webhookResent }
                #expect(audit.map(\.actor) == [.admin("otto")] && audit.first?.detail == "webhook=\(delivery.id)")
            }
        }
    }

    @Test func anOwnerAddsAPartnerSeesItsSecretsOnceRollsItsKeyAndRemovesIt() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.addAdmin("otto", role: .operator)
            try await h.withAdminPages(["webhooks.enabled": "false"]) { browser, _ in
                let olga = try await AdminRealmTests.signedIn("olga", on: browser)
                let csrf = try await olga.csrfToken(on: "/admin/partners")
                let bad = try await olga.post(
                    "/admin/partners",
                    form: ["csrf_token": csrf, "name": "acme", "return_urls": "http://acme.example/back/"]
                )
                #expect(bad.status == .badRequest && bad.html.contains("must use https"))
                let added = try await olga.post(
                    "/admin/partners",
                    form: [
                        "csrf_token": csrf, "name": "acme", "display_name": "Acme Payroll",
                        "return_urls": "https://acme.example/back/\nhttps://acme.example/settings/",
                    ]
                )
                #expect(added.status == .ok)
                let key = String(try #require(added.html.firstMatch(of: /id="api-key">(sok_[^<]+)</)?.output.1))
                #expect(added.html.contains("id=\"signing-secret\">whsec_"))
                let store = try h.database()
                let partner = try #require(try await store.partner(named: "acme"))
                #expect(partner.returnURLPrefixes == ["https://acme.example/back/", "https://acme.example/settings/"])
                let page = try await olga.get("/admin/partners")
                #expect(page.html.contains(String(key.prefix(12)) + "…") && !page.html.contains(key), "shown once, then by prefix")

                let changed = try await olga.post(
                    "/admin/partners/acme/settings",
                    form: [
                        "csrf_token": csrf, "display_name": "Acme Pay", "return_urls": "https://acme.example/back/",
                        "popup_origins": "https://acme.example", "webhook_url": "https://acme.example/hooks",
                    ]
                )
                #expect(changed.status == .seeOther)
                let updated = try #require(try await store.partner(named: "acme"))
                #expect(updated.displayName == "Acme Pay" && updated.returnURLPrefixes == ["https://acme.example/back/"])
                #expect(updated.popupOriginList == ["https://acme.example"] && updated.webhookUrl == "https://acme.example/hooks")
                let refused = try await olga.post(
                    "/admin/partners/acme/settings",
                    form: ["csrf_token": csrf, "return_urls": "https://acme.example/back/", "webhook_url": "ftp://x"]
                )
                #expect(refused.status == .badRequest)
                #expect(try await store.partner(named: "acme")?.webhookUrl == "https://acme.example/hooks", "nothing changed")

                let otto = try await AdminRealmTests.signedIn("otto", on: browser)
                let ottoCSRF = try await otto.adminCSRFToken()
                #expect(try await otto.post("/admin/partners/acme/keys", form: ["csrf_token": ottoCSRF]).status == .forbidden)

                let rolled = try await olga.post("/admin/partners/acme/keys", form: ["csrf_token": csrf])
                #expect(rolled.status == .ok && rolled.html.contains("id=\"api-key\">sok_"))
                let revoked = try await olga.post("/admin/partners/acme/keys/\(key.prefix(12))/revoke", form: ["csrf_token": csrf])
                #expect(revoked.status == .seeOther)
                #expect(try await store.partnerKey(prefix: String(key.prefix(12))) == nil)
                #expect(try await store.partnerKeys(partnerId: partner.id).filter { $0.revokedAt == nil }.count == 1)

                let unconfirmed = try await olga.post("/admin/partners/acme/remove", form: ["csrf_token": csrf, "confirm": "acm"])
                #expect(unconfirmed.status == .badRequest)
                let removed = try await olga.post("/admin/partners/acme/remove", form: ["csrf_token": csrf, "confirm": "acme"])
                #expect(removed.status == .seeOther)
                #expect(try await store.partner(named: "acme") == nil)
                let actions = try await store.auditEvents().filter { $0.actor == .admin("olga") }.map(\.action)
                #expect(actions.contains(.partnerAdded) && actions.contains(.partnerKeyCreated) && actions.contains(.partnerKeyRevoked))
                #expect(actions.contains(.partnerRemoved) && actions.contains(.partnerUpdated))
            }
        }
    }

    @Test func aNoticeComesFromItsCodeNeverFromTheAddress() async throws {
        try await H.run { h in
            _ = try await TestPartner.add(h)
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let vera = try await AdminRealmTests.signedIn("vera", on: browser)
                let planted = try await vera.get("/admin/partners?done=Your%20account%20is%20suspended.%20Call%20555-0100")
                #expect(planted.status == .ok && !planted.html.contains("suspended") && !planted.html.contains("555-0100"))
                let known = try await vera.get("/admin/partners?done=settings_changed&name=acme")
                #expect(known.html.contains("Changed the settings of acme."))
                let badName = try await vera.get("/admin/partners?done=settings_changed&name=Call%20us%20now")
                #expect(!badName.html.contains("Call us now") && !badName.html.contains("Changed the settings"))
                let badKey = try await vera.get("/admin/partners?done=key_revoked&name=acme&key=sok_%3Cb%3Eno")
                #expect(!badKey.html.contains("Revoked API key"))
                let resent = try await vera.get("/admin/partners?done=resent&webhook=msg_0123abcd")
                #expect(resent.html.contains("Delivery msg_0123abcd is queued to be sent again."))
            }
        }
    }
}
