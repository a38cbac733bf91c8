import Foundation
import OnboardCrypto

/// Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
enum WebhookSigner {
    /// The headers a delivery carries besides its content type.
    static func headers(id: String, timestamp: Date, body: String, secret: String) -> [(String, String)] {
        let seconds = String(Int(timestamp.timeIntervalSince1970))
        let mac = HMACSHA256.authenticationCode(for: Array("\(id).\(seconds).\(body)".utf8), key: PartnerCredentials.signingKey(secret))
        return [("webhook-id", id), ("webhook-timestamp", seconds), ("webhook-signature", "v1," + Data(mac).base64EncodedString())]
    }
}
