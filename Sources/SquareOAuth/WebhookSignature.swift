import Foundation
import OnboardCrypto

/// Square's `x-square-hmacsha256-signature`: Base64(HMAC-SHA256(signature key, notification URL + raw body)).
public enum WebhookSignature {
    /// The header name Square sends the signature in.
    public static let headerName = "x-square-hmacsha256-signature"

    /// The signature Square would send for this body at this notification URL.
    public static func signature(signatureKey: String, notificationURL: String, body: some Collection<UInt8>) -> String {
        let message = Array(notificationURL.utf8) + Array(body)
        return Data(HMACSHA256.authenticationCode(for: message, key: Array(signatureKey.utf8))).base64EncodedString()
    }

    /// Whether `signature` is valid, compared in constant time.
    public static func isValid(
        signature: String,
        signatureKey: String,
        notificationURL: String,
        body: some Collection<UInt8>
    ) -> Bool {
        guard let given = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)) else { return false }
        let message = Array(notificationURL.utf8) + Array(body)
        return HMACSHA256.isValid(Array(given), for: message, key: Array(signatureKey.utf8))
    }
}
