import Foundation
import GRDB
import Testing

@testable import Onboarding

/// Migration v12 on a database that already has links and webhook events: nothing lost, old links read right.
@Suite("Migration v12: a link's life and events to replay")
struct MigrationV12Tests {
    @Test func linksGetTheirResultAndQueuedEventsKeepTheirOrderAndIds() async throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: Migrations.v11Name)
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO partner (id, name, displayName, returnUrls, popupOrigins, webhookUrl, webhookSecretSealed, createdAt, updatedAt)
                    VALUES ('ptn_acme', 'acme', 'Acme', '[]', '[]', 'https://acme.example/hooks', 'sb1.x',
                        '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000');
                    INSERT INTO onboardingLink (id, partnerId, reference, scopes, returnUrl, mode, createdAt, expiresAt, usedAt, merchantId)
                    VALUES
                        ('lnk_used', 'ptn_acme', 'r1', 'S', 'https://acme.example/r', 'redirect', '2026-01-01 00:00:00.000',
                            '2026-01-02 00:00:00.000', '2026-01-01 00:01:00.000', 'ML-1'),
                        ('lnk_refused', 'ptn_acme', 'r2', 'S', 'https://acme.example/r', 'redirect', '2026-01-01 00:00:00.000',
                            '2026-01-02 00:00:00.000', '2026-01-01 00:02:00.000', NULL),
                        ('lnk_open', 'ptn_acme', 'r3', 'S', 'https://acme.example/r', 'popup', '2026-01-01 00:00:00.000',
                            '2099-01-02 00:00:00.000', NULL, NULL);
                    INSERT INTO webhookDelivery (id, partnerId, type, merchantId, payload, createdAt)
                    VALUES ('msg_b', 'ptn_acme', 'connection.created', 'ML-1', '{"data":{}}', '2026-01-01 00:01:00.000'),
                        ('msg_a', 'ptn_acme', 'connection.revoked', 'ML-1', '{"data":{}}', '2026-01-01 00:01:00.000');
                    """
            )
        }
        let store = try AppDatabase(queue)
        #expect(try await store.onboardingLink(id: "lnk_used")?.result == .connected)
        #expect(try await store.onboardingLink(id: "lnk_refused")?.result == .connectedThroughAnotherPartner)
        let open = try #require(try await store.onboardingLink(id: "lnk_open"))
        #expect(open.result == nil && open.status(at: Date()) == .open && open.refreshUrl == nil)

        let since = Date(timeIntervalSince1970: 0)
        let events = try await store.partnerEvents(partnerId: "ptn_acme", after: nil, type: nil, since: since, limit: 10)
        #expect(events?.map(\.id) == ["msg_b", "msg_a"], "the order they were queued in, not the ids' order")
        #expect(try await store.partnerEvents(partnerId: "ptn_acme", after: "msg_b", type: nil, since: since, limit: 10)?.map(\.id) == ["msg_a"])
        #expect(try await store.pendingWebhookCount() == 2)
    }
}
