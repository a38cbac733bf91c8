import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SquareOAuth
import Testing

@testable import Onboarding

/// `POST /webhooks/square`: only a correctly signed `oauth.authorization.revoked` changes anything, and only once.
@Suite("Square's revocation webhook")
struct SquareWebhookTests {
    static let key = "whsec-test-signature-key"
    static let url = "http://127.0.0.1:8080/webhooks/square"
    static let settings = ["square.webhookSignatureKey": key]

    static func revocation(
        merchant: String = "MLSANDBOXCAFE",
        eventId: String = UUID().uuidString.lowercased(),
        revoker: String = "MERCHANT"
    )
        -> String
    {
        """
        {"merchant_id":"\(merchant)","type":"oauth.authorization.revoked","event_id":"\(eventId)",\
        "created_at":"2026-11-23T10:00:00Z","data":{"type":"revocation","id":"\(UUID().uuidString)",\
        "object":{"revocation":{"revoked_at":"2026-11-23T10:00:00Z","revoker_type":"\(revoker)"}}}}
        """
    }

    static func deliver(_ body: String, signature: String?, to browser: Browser) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let signature { headers[.init(WebhookSignature.headerName)!] = signature }
        return try await browser.client.execute(uri: "/webhooks/square", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func sign(_ body: String, key: String = key, url: String = url) -> String {
        WebhookSignature.signature(signatureKey: key, notificationURL: url, body: Array(body.utf8))
    }

    @Test func aTrueRevocationRevokesTheConnectionOnce() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            try await harness.withService(Self.settings) { browser in
                let body = Self.revocation(eventId: "evt-1")
                let answer = try await Self.deliver(body, signature: Self.sign(body), to: browser)
                #expect(answer.status == .ok)
                #expect(String(buffer: answer.body) == #"{"result":"revoked"}"#)
                let again = try await Self.deliver(body, signature: Self.sign(body), to: browser)
                #expect(String(buffer: again.body) == #"{"result":"duplicate"}"#, "Square's retry is acknowledged, not acted on")
            }
            let cafe = try await harness.stored("MLSANDBOXCAFE")
            #expect(cafe.status == .revoked)
            #expect(cafe.revokedBy == "merchant")
            #expect(cafe.sealedAccessToken == nil && cafe.sealedRefreshToken == nil)
            #expect(try await harness.stored("MLSANDBOXBIKE").status == .active, "other merchants are untouched")
            let audits = try await harness.database().auditEvents().filter { $0.action.rawValue == "connection.revoked" }
            #expect(audits.count == 1)
            #expect(audits.first?.actor == .square)
        }
    }

    @Test(arguments: [("APPLICATION", "application"), ("SQUARE", "square")])
    func theRevokerIsRecorded(revoker: String, expected: String) async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            try await harness.withService(Self.settings) { browser in
                let body = Self.revocation(revoker: revoker)
                let answer = try await Self.deliver(body, signature: Self.sign(body), to: browser)
                #expect(answer.status == .ok)
            }
            #expect(try await harness.stored("MLSANDBOXCAFE").revokedBy == expected)
        }
    }

    @Test(arguments: ["missing", "wrong key", "other URL", "tampered body", "not base64"])
    func aForgedWebhookChangesNothing(forgery: String) async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let before = try await harness.stored("MLSANDBOXCAFE")
            try await harness.withService(Self.settings) { browser in
                let body = Self.revocation()
                let (sent, signature): (String, String?) =
                    switch forgery {
                    case "missing": (body, nil)
                    case "wrong key": (body, Self.sign(body, key: "guessed-key"))
                    case "other URL": (body, Self.sign(body, url: "https://attacker.example/webhooks/square"))
                    case "tampered body": (body.replacingOccurrences(of: "MLSANDBOXCAFE", with: "MLSANDBOXBIKE"), Self.sign(body))
                    default: (body, "%%%not-base64%%%")
                    }
                let answer = try await Self.deliver(sent, signature: signature, to: browser)
                #expect(answer.status == .unauthorized)
                #expect(String(buffer: answer.body).contains("invalid_signature"))
            }
            let after = try await harness.stored("MLSANDBOXCAFE")
            #expect(after.status == .active)
            #expect(after.sealedRefreshToken == before.sealedRefreshToken)
            #expect(try await harness.database().auditEvents().allSatisfy { $0.action.rawValue != "connection.revoked" })
        }
    }

    @Test func aSignedButMalformedEventIsABadRequest() async throws {
        try await ServiceHarness.run { harness in
            try await harness.withService(Self.settings) { browser in
                for body in ["not json", #"{"type":"oauth.authorization.revoked"}"#, #"{"event_id":"e","type":"oauth.authorization.revoked"}"#] {
                    let answer = try await Self.deliver(body, signature: Self.sign(body), to: browser)
                    #expect(answer.status == .badRequest, "\(body)")
                }
            }
        }
    }

    @Test func otherEventsAndUnknownMerchantsAreAcknowledgedWithoutChange() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            try await harness.withService(Self.settings) { browser in
                let test = #"{"merchant_id":"MLSANDBOXCAFE","type":"webhooks.test_notification","event_id":"t1","data":{}}"#
                let testAnswer = try await Self.deliver(test, signature: Self.sign(test), to: browser)
                #expect(String(buffer: testAnswer.body) == #"{"result":"no_change"}"#)
                let stranger = Self.revocation(merchant: "MLSTRANGER")
                let strangerAnswer = try await Self.deliver(stranger, signature: Self.sign(stranger), to: browser)
                #expect(String(buffer: strangerAnswer.body) == #"{"result":"no_change"}"#)
            }
            #expect(try await harness.stored("MLSANDBOXCAFE").status == .active)
        }
    }

    @Test func withoutASignatureKeyTheEndpointIsOff() async throws {
        try await ServiceHarness.run { harness in
            try await harness.withService { browser in
                let body = Self.revocation()
                let answer = try await Self.deliver(body, signature: Self.sign(body), to: browser)
                #expect(answer.status == .notFound)
                #expect(String(buffer: answer.body).contains("webhooks_not_configured"))
            }
        }
    }

    @Test func anOversizedBodyIsRefused() async throws {
        try await ServiceHarness.run { harness in
            try await harness.withService(Self.settings) { browser in
                let body = String(repeating: "x", count: 70_000)
                let answer = try await Self.deliver(body, signature: Self.sign(body), to: browser)
                #expect(answer.status == .contentTooLarge)
            }
        }
    }
}
