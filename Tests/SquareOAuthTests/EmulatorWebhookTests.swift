import Foundation
import Hummingbird
import NIOCore
import SquareEmulator
import SquareOAuth
import Synchronization
import TestSupport
import Testing

@Suite("The emulator sends Square's oauth.authorization.revoked webhook")
struct EmulatorWebhookTests {
    typealias H = EmulatorHarness
    typealias Received = WebhookReceiver.Received
    static let signatureKey = "whsec-emulator-test-key-5f2c"

    func subscribe(_ h: H, to url: String) {
        h.emulator.setWebhookSubscription(
            EmulatorWebhookSubscription(notificationURL: url, signatureKey: Self.signatureKey, retryBackoff: .milliseconds(20))
        )
    }

    func control(_ h: H, _ method: HTTPRequest.Method, json: String? = nil) async throws -> (status: Int, body: String) {
        let response = try await h.browser.execute(
            uri: "/_emulator/webhooks",
            method: method,
            headers: json == nil ? [:] : [.contentType: "application/json"],
            body: json.map { ByteBuffer(string: $0) }
        )
        return (Int(response.status.code), String(buffer: response.body))
    }

    func state(_ h: H) async throws -> [String: Any] {
        let response = try await h.browser.execute(uri: "/_emulator/state", method: .get)
        return try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    /// Checks what Square's headers promise about one received request and returns its body's JSON.
    func expectSignedRevocation(
        _ received: Received,
        url: String,
        retryNumber: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: Any] {
        #expect(received.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
        #expect(received.header("square-environment") == "Sandbox", sourceLocation: sourceLocation)
        #expect(received.header("square-retry-number") == String(retryNumber), sourceLocation: sourceLocation)
        let initial = try #require(received.header("square-initial-delivery-timestamp"), sourceLocation: sourceLocation)
        #expect((try? Date(initial, strategy: .iso8601)) != nil, sourceLocation: sourceLocation)
        let signature = try #require(received.header(WebhookSignature.headerName), sourceLocation: sourceLocation)
        #expect(
            WebhookSignature.isValid(signature: signature, signatureKey: Self.signatureKey, notificationURL: url, body: received.body),
            sourceLocation: sourceLocation
        )
        #expect(
            !WebhookSignature.isValid(signature: signature, signatureKey: "another-key", notificationURL: url, body: received.body),
            sourceLocation: sourceLocation
        )
        return try received.json
    }

    func expectLowercaseUUID(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = value as? String ?? ""
        #expect(UUID(uuidString: text) != nil && text == text.lowercased(), "\(text) is not a lowercase UUID", sourceLocation: sourceLocation)
    }

    @Test func merchantRevocationDeliversOneSignedEventInSquaresShape() async throws {
        try await H.run { h in
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                _ = try await h.connectWithSecret()
                subscribe(h, to: url)
                h.emulator.advanceClock(by: 86400)
                #expect(try await h.post("/_emulator/merchants/MLSANDBOXCAFE/revoke", json: "{}").status == 200)

                let log = await h.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                let delivery = try #require(log.first)
                #expect(log.count == 1)
                #expect(delivery.delivered && delivery.attempts == 1 && delivery.lastStatus == 200 && delivery.lastError == nil)
                #expect(delivery.merchantId == "MLSANDBOXCAFE" && delivery.revokerType == "MERCHANT")

                #expect(receiver.received.count == 1)
                let json = try expectSignedRevocation(try #require(receiver.received.first), url: url, retryNumber: 0)
                #expect(Set(json.keys) == ["merchant_id", "type", "event_id", "created_at", "data"])
                let raw = String(decoding: try #require(receiver.received.first).body, as: UTF8.self)
                #expect(raw.hasPrefix(#"{"merchant_id":"MLSANDBOXCAFE","type":"oauth.authorization.revoked","event_id":"#), "Square's field order")
                #expect(json["merchant_id"] as? String == "MLSANDBOXCAFE")
                #expect(json["type"] as? String == "oauth.authorization.revoked")
                #expect(json["event_id"] as? String == delivery.eventId)
                expectLowercaseUUID(json["event_id"])
                let createdAt = try #require((json["created_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
                #expect(abs(createdAt.timeIntervalSince(h.emulator.now)) < 60, "created_at follows the emulator's clock")

                let data = try #require(json["data"] as? [String: Any])
                #expect(Set(data.keys) == ["type", "id", "object"])
                #expect(data["type"] as? String == "revocation")
                expectLowercaseUUID(data["id"])
                #expect(data["id"] as? String != delivery.eventId)
                let object = try #require(data["object"] as? [String: Any])
                let revocation = try #require(object["revocation"] as? [String: Any])
                #expect(Set(revocation.keys) == ["revoked_at", "revoker_type"])
                #expect(revocation["revoker_type"] as? String == "MERCHANT")
                #expect(revocation["revoked_at"] as? String == json["created_at"] as? String)
            }
        }
    }

    @Test func applicationRevocationSaysApplication() async throws {
        try await H.run { h in
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                let token = try await h.connectWithPKCE()
                let accessToken = try #require(token.accessToken)
                subscribe(h, to: url)
                _ = try await h.square.revokeToken(
                    RevokeTokenRequest(clientId: H.clientId, accessToken: accessToken),
                    clientSecret: Secret(H.clientSecret)
                )
                let log = await h.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(log.map(\.revokerType) == ["APPLICATION"])
                #expect(receiver.received.count == 1)
                let json = try expectSignedRevocation(try #require(receiver.received.first), url: url, retryNumber: 0)
                #expect(json["merchant_id"] as? String == "MLSANDBOXCAFE")
                let data = try #require(json["data"] as? [String: Any])
                let revocation = try #require((data["object"] as? [String: Any])?["revocation"] as? [String: Any])
                #expect(revocation["revoker_type"] as? String == "APPLICATION")
            }
        }
    }

    @Test func revokingOnlyTheAccessTokenSendsNothing() async throws {
        try await H.run { h in
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                _ = try await h.connectWithSecret()
                subscribe(h, to: url)
                let ended = Counter()
                h.emulator.onRevocation { _, _, _ in ended.increment() }
                _ = try await h.square.revokeToken(
                    RevokeTokenRequest(clientId: H.clientId, merchantId: "MLSANDBOXCAFE", revokeOnlyAccessToken: true),
                    clientSecret: Secret(H.clientSecret)
                )
                #expect(ended.value == 0, "the authorization did not end")
                #expect(h.emulator.webhookDeliveries.isEmpty)

                // The full revocation afterwards is the only event the receiver ever sees.
                _ = try await h.square.revokeToken(
                    RevokeTokenRequest(clientId: H.clientId, merchantId: "MLSANDBOXCAFE"),
                    clientSecret: Secret(H.clientSecret)
                )
                let log = await h.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(ended.value == 1)
                #expect(log.count == 1 && log[0].delivered)
                #expect(receiver.received.count == 1)
                #expect(try receiver.received[0].json["event_id"] as? String == log[0].eventId)
            }
        }
    }

    @Test func a500IsRetriedWithTheSameEventAndTheNextRetryNumber() async throws {
        try await H.run { h in
            let receiver = WebhookReceiver(statuses: [500, 200])
            try await receiver.run { url in
                _ = try await h.connectWithSecret()
                subscribe(h, to: url)
                h.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE")

                let log = await h.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(log.count == 1)
                #expect(log.first?.delivered == true && log.first?.attempts == 2 && log.first?.lastStatus == 200)

                let received = receiver.received
                #expect(received.count == 2)
                guard received.count == 2 else { return }
                let first = try expectSignedRevocation(received[0], url: url, retryNumber: 0)
                let second = try expectSignedRevocation(received[1], url: url, retryNumber: 1)
                #expect(first["event_id"] as? String == log.first?.eventId)
                #expect(second["event_id"] as? String == log.first?.eventId)
                #expect(received[0].body == received[1].body)
                #expect(received[0].header("square-initial-delivery-timestamp") == received[1].header("square-initial-delivery-timestamp"))
            }
        }
    }

    @Test func aReceiverThatKeepsFailingGetsThreeAttemptsInAll() async throws {
        try await H.run { h in
            let receiver = WebhookReceiver(statuses: [503, 503, 503, 503])
            try await receiver.run { url in
                _ = try await h.connectWithSecret()
                subscribe(h, to: url)
                h.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE")
                let log = await h.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(log.first?.delivered == false && log.first?.attempts == 3 && log.first?.lastStatus == 503)
                #expect(receiver.received.map { $0.header("square-retry-number") } == ["0", "1", "2"])
            }
        }
    }

    @Test func anUnreachableReceiverIsLoggedAsUndelivered() async throws {
        let closed = Box<String>()
        try await WebhookReceiver().run { url in closed.value = url }
        try await H.run { h in
            _ = try await h.connectWithSecret()
            h.emulator.setWebhookSubscription(
                EmulatorWebhookSubscription(
                    notificationURL: try #require(closed.value),
                    signatureKey: Self.signatureKey,
                    retryBackoff: .milliseconds(20),
                    attemptTimeout: .milliseconds(500)
                )
            )
            h.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE")
            let log = await h.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
            #expect(log.first?.delivered == false && log.first?.attempts == 3)
            #expect(log.first?.lastStatus == nil && log.first?.lastError != nil)
        }
    }

    @Test func withoutASubscriptionNothingIsSent() async throws {
        try await H.run { h in
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                _ = try await h.connectWithSecret()
                h.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE")
                #expect(h.emulator.webhookDeliveries.isEmpty)

                // Reconnect and subscribe: only the second revocation reaches the receiver.
                _ = try await h.connectWithSecret()
                subscribe(h, to: url)
                h.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE")
                let log = await h.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(log.count == 1)
                #expect(receiver.received.count == 1)
            }
        }
    }

    @Test func theControlEndpointSubscribesRejectsBadInputAndUnsubscribes() async throws {
        try await H.run { h in
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                let badURL = try await control(h, .put, json: #"{"notification_url":"ftp://example.com/hook","signature_key":"k"}"#)
                #expect(badURL.status == 400)
                #expect(badURL.body.contains(#""code":"INVALID_VALUE""#) && badURL.body.contains(#""field":"notification_url""#))
                let missing = try await control(h, .put, json: #"{"signature_key":"k"}"#)
                #expect(missing.status == 400)
                #expect(missing.body.contains(#""code":"MISSING_REQUIRED_PARAMETER""#))
                #expect(h.emulator.webhookNotificationURL == nil)

                let key = Self.signatureKey
                let set = try await control(h, .put, json: #"{"notification_url":"\#(url)","signature_key":"\#(key)","retry_backoff_ms":20}"#)
                #expect(set.status == 200)
                #expect(!set.body.contains(key))
                #expect(try await state(h)["webhook_notification_url"] as? String == url)

                _ = try await h.connectWithSecret()
                #expect(try await h.post("/_emulator/merchants/MLSANDBOXCAFE/revoke", json: "{}").status == 200)
                let log = await h.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(receiver.received.count == 1)
                _ = try expectSignedRevocation(try #require(receiver.received.first), url: url, retryNumber: 0)

                let snapshot = try await state(h)
                let deliveries = try #require(snapshot["webhook_deliveries"] as? [[String: Any]])
                #expect(deliveries.count == 1)
                #expect(deliveries.first?["event_id"] as? String == log.first?.eventId)
                #expect(deliveries.first?["revoker_type"] as? String == "MERCHANT")
                #expect(deliveries.first?["delivered"] as? Bool == true)
                let raw = try await h.browser.execute(uri: "/_emulator/state", method: .get)
                #expect(!String(buffer: raw.body).contains(key))
                #expect(!h.logs.all.contains { $0.contains(key) })

                #expect(try await control(h, .delete).status == 200)
                #expect(try await state(h)["webhook_notification_url"] == nil)
                _ = try await h.connectWithSecret()
                h.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE")
                #expect(h.emulator.webhookDeliveries.count == 1)
            }
        }
    }
}

/// A value set inside a `@Sendable` closure and read after it.
final class Box<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)
    var value: Value? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
