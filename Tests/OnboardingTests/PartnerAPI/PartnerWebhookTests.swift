import AsyncHTTPClient
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import OnboardCrypto
import SquareEmulator
import TestSupport
import Testing

@testable import Onboarding

@Suite("Partner webhooks: the outbox, Standard Webhooks signatures, retries, giving up")
struct PartnerWebhookTests {
    typealias H = ServiceHarness

    /// Whether a delivery's signature checks out the way Standard Webhooks receivers check it.
    static func verify(_ received: WebhookReceiver.Received, secret: String) throws -> Bool {
        let id = try #require(received.header("webhook-id"))
        let timestamp = try #require(received.header("webhook-timestamp"))
        let key = Array(try #require(Data(base64Encoded: String(secret.dropFirst("whsec_".count)))))
        let signed = Array("\(id).\(timestamp).".utf8) + received.body
        let expected = "v1," + Data(HMACSHA256.authenticationCode(for: signed, key: key)).base64EncodedString()
        return received.header("webhook-signature") == expected
    }

    static func waitFor(_ receiver: WebhookReceiver, count: Int) async throws -> [WebhookReceiver.Received] {
        let deadline = ContinuousClock.now + .seconds(20)
        while receiver.received.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        return receiver.received
    }

    @Test func aPartnerHearsOfTheConnectionAndItsRevocationSigned() async throws {
        let receiver = WebhookReceiver(path: "/hooks")
        try await receiver.run { url in
            try await H.run { h in
                let partner = try await TestPartner.add(h, webhookURL: url)
                try await h.withService { browser in
                    let back = try await partner.connect(h, browser, reference: "acct-7")
                    let location = try #require(back.headers[.location])
                    let linkId = try #require(try partner.verify(location)["link_id"])
                    let arrived = try await Self.waitFor(receiver, count: 2)
                    #expect(arrived.count == 2)
                    // The dispatcher sends several at once: they may arrive in either order.
                    let first = try #require(arrived.first { (try? $0.json["type"] as? String) == "connection.created" })
                    #expect(try Self.verify(first, secret: partner.secret))
                    let json = try first.json
                    let data = try #require(json["data"] as? [String: Any])
                    #expect(data["merchant_id"] as? String == "MLSANDBOXCAFE" && data["reference"] as? String == "acct-7")
                    #expect(data["link_id"] as? String == linkId, "the event names the link that connected the merchant")
                    #expect(first.header("webhook-id")?.hasPrefix("msg_") == true)
                    let linkEvent = try #require(arrived.first { (try? $0.json["type"] as? String) == "onboarding_link.completed" })
                    #expect(try Self.verify(linkEvent, secret: partner.secret))
                    let outcome = try #require(try linkEvent.json["data"] as? [String: Any])
                    #expect(outcome["link_id"] as? String == linkId && outcome["result"] as? String == "connected")
                    #expect(outcome["merchant_id"] as? String == "MLSANDBOXCAFE" && outcome["reference"] as? String == "acct-7")

                    #expect(try await partner.call(browser, .delete, "/connections/MLSANDBOXCAFE").status == .ok)
                    let all = try await Self.waitFor(receiver, count: 3)
                    let revoked = try all[2].json
                    #expect(revoked["type"] as? String == "connection.revoked")
                    #expect((revoked["data"] as? [String: Any])?["revoked_by"] as? String == "partner:\(partner.record.id)")
                    #expect((revoked["data"] as? [String: Any])?["link_id"] is NSNull, "no link caused the revocation")
                    #expect(!all.contains { String(decoding: $0.body, as: UTF8.self).contains("EAAA") }, "no token in a webhook")
                }
            }
        }
    }

    @Test func aSlowEndpointTimesOutIsRetriedAndNeverHoldsUpTheMerchant() async throws {
        let receiver = WebhookReceiver(holdingAnswers: true, path: "/hooks")
        try await receiver.run { url in
            try await H.run { h in
                let partner = try await TestPartner.add(h, webhookURL: url)
                let store = try h.database()
                try await h.withService(["webhooks.enabled": "false"]) { browser in
                    let answer = try await partner.connect(h, browser)
                    #expect(answer.status == .seeOther)
                }
                let queued = try await store.webhookDeliveries(partnerId: partner.record.id, limit: 10)
                #expect(queued.count == 2 && queued.allSatisfy { $0.attempts == 0 }, "the merchant had their answer before any attempt")
                try await Self.keepOnlyTheConnectionEvent(h)
                var dispatcher = WebhookDispatcher(
                    store: store,
                    vault: TokenVault(keyRing: try h.configuration().keyRing),
                    clock: h.clock.appClock,
                    logger: Logger(label: "test"),
                    targets: WebhookTargetGuard(allowPrivateTargets: true)
                )
                dispatcher.timeout = .milliseconds(300)
                try await Self.withClient { client in
                    #expect(await dispatcher.pass(client: client) == 1)
                    let timedOut = try #require(try await store.webhookDeliveries(partnerId: partner.record.id, limit: 1).first)
                    #expect(timedOut.deliveredAt == nil && timedOut.attempts == 1 && timedOut.lastError == "timed out")
                    receiver.release()
                    h.clock.advance(by: 10)
                    #expect(await dispatcher.pass(client: client) == 1)
                }
                let delivered = try #require(try await store.webhookDeliveries(partnerId: partner.record.id, limit: 1).first)
                #expect(delivered.deliveredAt != nil && delivered.attempts == 2)
                let ids = Set(receiver.received.compactMap { $0.header("webhook-id") })
                #expect(ids == [delivered.id], "the retry carries the same webhook-id")
            }
        }
    }

    @Test func aFailingEndpointIsRetriedWithTheSameIdUntilItAnswers() async throws {
        let receiver = WebhookReceiver(statuses: [500, 503], path: "/hooks")
        try await receiver.run { url in
            try await H.run { h in
                let partner = try await TestPartner.add(h, webhookURL: url)
                let store = try h.database()
                try await h.withService(["webhooks.enabled": "false"]) { browser in
                    let answer = try await partner.connect(h, browser)
                    #expect(answer.status == .seeOther, "the merchant's callback does not wait for the webhook")
                }
                try await Self.keepOnlyTheConnectionEvent(h)
                let dispatcher = WebhookDispatcher(
                    store: store,
                    vault: TokenVault(keyRing: try h.configuration().keyRing),
                    clock: h.clock.appClock,
                    logger: Logger(label: "test"),
                    targets: WebhookTargetGuard(allowPrivateTargets: true)
                )
                try await Self.withClient { client in
                    #expect(await dispatcher.pass(client: client) == 1)
                    #expect(await dispatcher.pass(client: client) == 0, "not before its retry time")
                    h.clock.advance(by: 10)
                    #expect(await dispatcher.pass(client: client) == 1)
                    h.clock.advance(by: 60)
                    #expect(await dispatcher.pass(client: client) == 1)
                }
                let ids = Set(receiver.received.compactMap { $0.header("webhook-id") })
                #expect(receiver.received.count == 3 && ids.count == 1, "three attempts of one message")
                let delivery = try #require(try await store.webhookDeliveries(partnerId: partner.record.id, limit: 10).first)
                #expect(delivery.deliveredAt != nil && delivery.attempts == 3 && delivery.lastStatus == 200)
                #expect(try await store.pendingWebhookCount() == 0)
            }
        }
    }

    @Test func anEndpointDownForDaysIsGivenUpOnMarkedAndAudited() async throws {
        try await H.run { h in
            // A port nothing listens on: every attempt fails to connect.
            let partner = try await TestPartner.add(h, webhookURL: "http://127.0.0.1:9/hooks")
            let store = try h.database()
            try await h.withService(["webhooks.enabled": "false"]) { browser in
                _ = try await partner.connect(h, browser)
            }
            try await Self.keepOnlyTheConnectionEvent(h)
            var dispatcher = WebhookDispatcher(
                store: store,
                vault: TokenVault(keyRing: try h.configuration().keyRing),
                clock: h.clock.appClock,
                logger: Logger(label: "test"),
                targets: WebhookTargetGuard(allowPrivateTargets: true)
            )
            dispatcher.timeout = .milliseconds(500)
            try await Self.withClient { client in
                var attempts = 0
                for _ in 0..<40 {
                    attempts += await dispatcher.pass(client: client)
                    h.clock.advance(by: 8 * 3_600)
                    if try await store.pendingWebhookCount() == 0 { break }
                }
                #expect(attempts >= 9, "retried through the whole backoff schedule")
            }
            let delivery = try #require(try await store.webhookDeliveries(partnerId: partner.record.id, limit: 1).first)
            #expect(delivery.failedAt != nil && delivery.deliveredAt == nil)
            #expect(delivery.failedAt!.timeIntervalSince(delivery.createdAt) >= 3 * 86_400, "retried for at least three days")
            #expect(try await store.partner(id: partner.record.id)?.webhookFailingSince != nil, "the endpoint is marked failing")
            let audit = try await store.auditEvents().filter { $0.action == .webhookEndpointFailing }
            #expect(audit.count == 1)
        }
    }

    /// Leaves only `connection.created` in the outbox: the retry tests count the attempts of one message.
    static func keepOnlyTheConnectionEvent(_ h: H) async throws {
        try await h.rawDatabase().write { db in
            try db.execute(sql: #"DELETE FROM "webhookDelivery" WHERE "type" = 'onboarding_link.completed'"#)
            #expect(db.changesCount == 1, "a partner's connect queues how its link ended too")
        }
    }

    static func withClient(_ body: (HTTPClient) async throws -> Void) async throws {
        // Refused connections fail fast (AsyncHTTPClient retries a refused connect until its connect timeout).
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .milliseconds(200))))
        do {
            try await body(client)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
