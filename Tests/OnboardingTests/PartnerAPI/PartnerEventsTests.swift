import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import TestSupport
import Testing

@testable import Onboarding

/// The partner's events to replay (`GET /events`) and the signed test event (`POST /webhook-endpoint/test`).
@Suite("Partner events: the list to catch up on, the test event")
struct PartnerEventsTests {
    typealias H = ServiceHarness

    /// One page of `GET /events` with this query.
    static func page(_ partner: TestPartner, _ browser: Browser, _ query: String = "") async throws -> (ids: [String], types: [String], more: Bool) {
        let answer = try await partner.call(browser, .get, "/events" + query)
        #expect(answer.status == .ok, "\(answer.html)")
        let json = try answer.jsonObject()
        let events = try #require(json["data"] as? [[String: Any]])
        return (events.compactMap { $0["id"] as? String }, events.compactMap { $0["type"] as? String }, json["has_more"] as? Bool ?? false)
    }

    @Test func afterAnOutageThePartnerCatchesUpWithTheSameIdsAndPayloads() async throws {
        // The endpoint is down for every attempt the test makes: the list is what is left.
        let receiver = WebhookReceiver(statuses: Array(repeating: 500, count: 50), path: "/hooks")
        try await receiver.run { url in
            try await H.run { h in
                let acme = try await TestPartner.add(h, webhookURL: url)
                let globex = try await TestPartner.add(h, name: "globex", displayName: "Globex", returnURLs: ["https://globex.example/"])
                try await h.withService { browser in
                    let back = try await acme.connect(h, browser, reference: "acct-5")
                    let location = try #require(back.headers[.location])
                    let linkId = try #require(try acme.verify(location)["link_id"])
                    #expect(try await acme.call(browser, .delete, "/connections/MLSANDBOXCAFE").status == .ok)

                    let all = try await Self.page(acme, browser)
                    #expect(all.types == ["connection.created", "onboarding_link.completed", "connection.revoked"])
                    #expect(!all.more)
                    let stored = try await h.database().webhookDeliveries(partnerId: acme.record.id, limit: 10).reversed().map(\.id)
                    #expect(all.ids == stored, "the ids are the webhooks' webhook-id")
                    let attempted = try await Self.attemptedIds(receiver, count: 3)
                    #expect(attempted.isSubset(of: Set(all.ids)) && !attempted.isEmpty, "the failed attempts carried the same ids")

                    let answer = try await acme.call(browser, .get, "/events?type=onboarding_link.completed")
                    let event = try #require((try answer.jsonObject()["data"] as? [[String: Any]])?.first)
                    let data = try #require(event["data"] as? [String: Any])
                    #expect(data["link_id"] as? String == linkId && data["result"] as? String == "connected")
                    #expect(data["reference"] as? String == "acct-5" && event["timestamp"] is String)

                    var walked: [String] = []
                    var after: String?
                    for _ in 0..<5 {
                        let step = try await Self.page(acme, browser, "?limit=1" + (after.map { "&after=\($0)" } ?? ""))
                        walked += step.ids
                        after = step.ids.last
                        if !step.more { break }
                    }
                    #expect(walked == all.ids, "limit=1 walks every event once, in order")
                    #expect(try await Self.page(acme, browser, "?after=\(all.ids[2])").ids.isEmpty)
                    #expect(try await Self.page(acme, browser, "?type=connection.revoked").ids == [all.ids[2]])

                    #expect(try await Self.page(globex, browser).ids.isEmpty, "a partner sees only its own events")
                    let foreign = try await globex.call(browser, .get, "/events?after=\(all.ids[0])")
                    #expect(foreign.status == .badRequest)
                    #expect(try foreign.apiError()["field"] as? String == "after")
                    let bogus = try await acme.call(browser, .get, "/events?type=connection.exploded")
                    #expect(bogus.status == .badRequest)
                    #expect(try bogus.apiError()["field"] as? String == "type")
                }
            }
        }
    }

    @Test func eventsAreListedForThirtyDaysThenSweptOnceDone() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h, webhookURL: "http://127.0.0.1:9/hooks")
            try await h.withService(["webhooks.enabled": "false"]) { browser in
                _ = try await acme.connect(h, browser)
                #expect(try await Self.page(acme, browser).ids.count == 2)
                h.clock.advance(by: 29 * 86_400)
                #expect(try await Self.page(acme, browser).ids.count == 2, "kept 30 days")
                h.clock.advance(by: 2 * 86_400)
                #expect(try await Self.page(acme, browser).ids.isEmpty, "older than 30 days: not listed")
            }
            let store = try h.database()
            let configuration = try h.configuration()
            let sweeper = RetentionSweeper(store: store, settings: configuration.retention, clock: h.clock.appClock, logger: Logger(label: "test"))
            #expect(try await sweeper.sweep().webhookEvents == 0, "never sent yet: kept until delivered or given up on")
            for delivery in try await store.webhookDeliveries(partnerId: acme.record.id, limit: 10) {
                try await store.recordWebhookDelivered(id: delivery.id, status: 200, now: h.clock.appClock.now())
            }
            #expect(try await sweeper.sweep().webhookEvents == 2)
            #expect(try await store.webhookDeliveries(partnerId: acme.record.id, limit: 10).isEmpty)
        }
    }

    @Test func aTestEventIsSignedSentNowAndItsAnswerReported() async throws {
        let receiver = WebhookReceiver(statuses: [204, 500], path: "/hooks")
        try await receiver.run { url in
            try await H.run { h in
                let acme = try await TestPartner.add(h, webhookURL: url)
                let globex = try await TestPartner.add(h, name: "globex", displayName: "Globex", returnURLs: ["https://globex.example/"])
                try await h.withService { browser in
                    let sent = try await acme.call(browser, .post, "/webhook-endpoint/test")
                    #expect(sent.status == .ok, "\(sent.html)")
                    let result = try sent.jsonObject()
                    #expect(result["delivered"] as? Bool == true && result["status"] as? Int == 204)
                    let received = try #require(receiver.received.first)
                    #expect(try PartnerWebhookTests.verify(received, secret: acme.secret))
                    #expect(received.header("webhook-id") == result["webhook_id"] as? String)
                    #expect(try received.json["type"] as? String == "webhook.test")

                    let failing = try await acme.call(browser, .post, "/webhook-endpoint/test", json: "{}")
                    let failed = try failing.jsonObject()
                    #expect(failed["delivered"] as? Bool == false && failed["status"] as? Int == 500)
                    #expect(receiver.received.count == 2)
                    #expect(try await Self.page(acme, browser).ids.isEmpty, "a test event is not queued, retried or listed")

                    let none = try await globex.call(browser, .post, "/webhook-endpoint/test")
                    #expect(none.status == .conflict && none.errorCode == "no_webhook_endpoint")
                    let audit = try await h.database().auditEvents().filter { $0.action == .webhookTested }
                    #expect(audit.count == 2 && audit.allSatisfy { $0.actor == .partner(acme.record.id) })
                }
            }
        }
    }

    /// The `webhook-id`s the receiver saw, once it has seen `count` attempts (the dispatcher runs beside the service).
    static func attemptedIds(_ receiver: WebhookReceiver, count: Int) async throws -> Set<String> {
        _ = try await PartnerWebhookTests.waitFor(receiver, count: count)
        return Set(receiver.received.compactMap { $0.header("webhook-id") })
    }
}
