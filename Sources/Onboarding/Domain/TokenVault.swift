import Foundation
import OnboardCrypto
import SquareOAuth

/// Seals and opens every secret the service stores, each bound to the row it belongs to.
struct TokenVault: Sendable {
    let keyRing: KeyRing

    func sealAccessToken(_ token: Secret, environment: String, merchantId: String) throws -> String {
        try keyRing.seal(token.value, context: "connection.accessToken|\(environment)|\(merchantId)")
    }

    func openAccessToken(_ sealed: String, environment: String, merchantId: String) throws -> Secret {
        Secret(try keyRing.openString(sealed, context: "connection.accessToken|\(environment)|\(merchantId)"))
    }

    func sealRefreshToken(_ token: Secret, environment: String, merchantId: String) throws -> String {
        try keyRing.seal(token.value, context: "connection.refreshToken|\(environment)|\(merchantId)")
    }

    func openRefreshToken(_ sealed: String, environment: String, merchantId: String) throws -> Secret {
        Secret(try keyRing.openString(sealed, context: "connection.refreshToken|\(environment)|\(merchantId)"))
    }

    func sealCodeVerifier(_ verifier: CodeVerifier, stateHash: String) throws -> String {
        try keyRing.seal(verifier.value, context: "authorization.codeVerifier|\(stateHash)")
    }

    func openCodeVerifier(_ sealed: String, stateHash: String) throws -> Secret {
        Secret(try keyRing.openString(sealed, context: "authorization.codeVerifier|\(stateHash)"))
    }
}

/// Where the service reads the time; tests move it.
public struct AppClock: Sendable {
    public let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date) { self.now = now }

    public static let system = AppClock { Date() }
}

/// Hex SHA-256, for storing lookup keys (state, session and binding tokens) instead of the tokens.
func sha256Hex(_ text: String) -> String {
    SHA256.hash(text).map { String(format: "%02x", $0) }.joined()
}
