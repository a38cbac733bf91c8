import Foundation
import Testing

@testable import Onboarding

/// Nothing grows forever: expired attempts, ended sessions, old Square event ids and old audit rows are swept.
@Suite("Retention and the authorization lifetime")
struct RetentionTests {
    typealias H = ServiceHarness

    @Test func theSweepDeletesEachKindAfterItsOwnRetentionAndKeepsConnections() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            try await h.withService(SquareWebhookTests.settings) { browser in
                _ = try await browser.pressConnect()  // an attempt never finished
                let body = SquareWebhookTests.revocation(merchant: "MLSANDBOXBIKE", eventId: "evt-old")
                #expect(try await SquareWebhookTests.deliver(body, signature: SquareWebhookTests.sign(body), to: browser).status == .ok)
            }
            let before = try await h.database().counts()
            #expect(before.authorizations == 3)

            // Each sweep runs as the service would, with settings that delete in batches of one row per kind.
            let settings = ["retention.batchSize": "1"]
            h.clock.advance(by: 8 * 86_400)
            var swept = try await h.services(settings).retention.sweep()
            #expect(swept == RetentionCounts(authorizations: 0, sessions: 2, squareEvents: 0, auditEvents: 0), "sessions after 7 days")

            h.clock.advance(by: 23 * 86_400)
            swept = try await h.services(settings).retention.sweep()
            #expect(swept.authorizations == 3 && swept.squareEvents == 1 && swept.auditEvents == 0)
            #expect(try await h.database().counts() == StoreCounts(authorizations: 0, connections: 2))
            let audit = try await h.database().auditEvents()
            #expect(audit.count > 0, "the audit log is kept longest")

            h.clock.advance(by: 731 * 86_400)
            swept = try await h.services(settings).retention.sweep()
            #expect(swept.auditEvents == audit.count)
            #expect(try await h.database().auditEvents().isEmpty)
            #expect(try await h.stored("MLSANDBOXCAFE").status == .active, "connections themselves are never swept")
        }
    }

    @Test func retentionSettingsAreBoundsChecked() async throws {
        try await H.run { h in
            for (key, value) in [
                ("retention.auditDays", "7"), ("retention.squareEventDays", "1"), ("retention.batchSize", "0"),
                ("authorization.lifetimeMinutes", "0"), ("authorization.lifetimeMinutes", "61"),
            ] {
                #expect(throws: ConfigurationError.self, "\(key)=\(value)") { try h.configuration([key: value]) }
            }
        }
    }

    @Test func theAuthorizationLifetimeIsASetting() async throws {
        try await H.run { h in
            try await h.withService(["authorization.lifetimeMinutes": "1"]) { browser in
                let callback = try await h.startAndConsent(browser)
                let stored = try await h.database().allConnections()
                #expect(stored.isEmpty)
                h.clock.advance(by: 61)
                let page = try await browser.get(callback)
                #expect(page.status == .badRequest)
                #expect(page.html.contains("This connection attempt has expired"))
            }
            try await h.withService(["authorization.lifetimeMinutes": "2"]) { browser in
                let callback = try await h.startAndConsent(browser)
                h.clock.advance(by: 61)
                #expect(try await browser.get(callback).status == .seeOther)
            }
        }
    }
}
