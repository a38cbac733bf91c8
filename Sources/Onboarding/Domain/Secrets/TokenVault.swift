import Foundation
import OnboardCrypto
import SquareOAuth

/// Seals and opens every secret the service stores, each bound to the row it belongs to.
struct TokenVault: Sendable {
    let keyRing: KeyRing

    /// The context each sealed column binds its values to; `SealedColumn.all` re-seals with the same strings.
    enum Context {
        static func accessToken(environment: String, merchantId: String) -> String {
            "connection.accessToken|\(environment)|\(merchantId)"
        }

        static func refreshToken(environment: String, merchantId: String) -> String {
            "connection.refreshToken|\(environment)|\(merchantId)"
        }

        static func codeVerifier(stateHash: String) -> String {
            "authorization.codeVerifier|\(stateHash)"
        }

        static func adminTOTPSecret(adminName: String) -> String {
            "adminUser.totpSecret|\(adminName)"
        }

        static func partnerSecret(partnerId: String) -> String {
            "partner.webhookSecret|\(partnerId)"
        }
    }

    func sealAccessToken(_ token: Secret, environment: String, merchantId: String) throws -> String {
        try keyRing.seal(token.value, context: Context.accessToken(environment: environment, merchantId: merchantId))
    }

    func openAccessToken(_ sealed: String, environment: String, merchantId: String) throws -> Secret {
        Secret(try keyRing.openString(sealed, context: Context.accessToken(environment: environment, merchantId: merchantId)))
    }

    func sealRefreshToken(_ token: Secret, environment: String, merchantId: String) throws -> String {
        try keyRing.seal(token.value, context: Context.refreshToken(environment: environment, merchantId: merchantId))
    }

    func openRefreshToken(_ sealed: String, environment: String, merchantId: String) throws -> Secret {
        Secret(try keyRing.openString(sealed, context: Context.refreshToken(environment: environment, merchantId: merchantId)))
    }

    func sealCodeVerifier(_ verifier: CodeVerifier, stateHash: String) throws -> String {
        try keyRing.seal(verifier.value, context: Context.codeVerifier(stateHash: stateHash))
    }

    /// An admin's TOTP secret, sealed as its Base32 text bound to the admin's name.
    func sealAdminTOTPSecret(_ secret: [UInt8], adminName: String) throws -> String {
        try keyRing.seal(Base32.encode(secret), context: Context.adminTOTPSecret(adminName: adminName))
    }

    func openAdminTOTPSecret(_ sealed: String, adminName: String) throws -> [UInt8] {
        let text = try keyRing.openString(sealed, context: Context.adminTOTPSecret(adminName: adminName))
        guard let secret = Base32.decode(text) else { throw CryptoError.malformedSealedBox }
        return secret
    }

    /// A partner's signing secret (webhooks and return URLs), bound to the partner's id.
    func sealPartnerSecret(_ secret: String, partnerId: String) throws -> String {
        try keyRing.seal(secret, context: Context.partnerSecret(partnerId: partnerId))
    }

    func openPartnerSecret(_ sealed: String, partnerId: String) throws -> String {
        try keyRing.openString(sealed, context: Context.partnerSecret(partnerId: partnerId))
    }

    func openCodeVerifier(_ sealed: String, stateHash: String) throws -> Secret {
        Secret(try keyRing.openString(sealed, context: Context.codeVerifier(stateHash: stateHash)))
    }
}
