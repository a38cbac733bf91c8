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
        let queued = try #require(try await store.webhookDeliveries(partnerId: partner.record.id, limit: 1).first)
        try await store.recordWebhookAttemptFailed(
            id: queued.id,
            status: nil,
            error: "could not reach the endpoint",
            retryAt: nil,
            now: Date(),
            audit: AuditEventRecord(occurredAt: Date(), actor: .system, action: .webhookEndpointFailing, detail: "test")
        )
        return (partner, try #require(try await store.webhookDeliveries(partnerId: partner.record.id, limit: 1).first))
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
}
