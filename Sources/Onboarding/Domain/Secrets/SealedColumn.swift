/// A kind of sealed value the store holds, and how each value's context is built from the row that owns it.
///
/// An engine maps each case to where it keeps the values (table, column, key); the domain knows only the case, its
/// name in reports (`keys status`), and the context `TokenVault` sealed the value with.
enum SealedColumn: String, Sendable, CaseIterable {
    case connectionAccessToken = "connection.sealedAccessToken"
    case connectionRefreshToken = "connection.sealedRefreshToken"
    case authorizationCodeVerifier = "authorization.sealedCodeVerifier"
    case adminTOTPSecret = "adminUser.totpSecretSealed"
    case partnerWebhookSecret = "partner.webhookSecretSealed"

    /// Every kind of sealed value; a new one needs a case here, with its context, and its place in each engine.
    static let all = allCases

    /// How reports name it.
    var name: String { rawValue }

    /// What a sealed value's context is made of, read from the row that owns it.
    enum ContextField: String, Sendable {
        case environment, merchantId, stateHash, adminName, partnerId
    }

    /// The fields `context` reads.
    var contextFields: [ContextField] {
        switch self {
        case .connectionAccessToken, .connectionRefreshToken: [.environment, .merchantId]
        case .authorizationCodeVerifier: [.stateHash]
        case .adminTOTPSecret: [.adminName]
        case .partnerWebhookSecret: [.partnerId]
        }
    }

    /// The context the value was sealed with, from the owning row's `contextFields`.
    func context(_ fields: [ContextField: String]) -> String {
        switch self {
        case .connectionAccessToken:
            TokenVault.Context.accessToken(environment: fields[.environment, default: ""], merchantId: fields[.merchantId, default: ""])
        case .connectionRefreshToken:
            TokenVault.Context.refreshToken(environment: fields[.environment, default: ""], merchantId: fields[.merchantId, default: ""])
        case .authorizationCodeVerifier: TokenVault.Context.codeVerifier(stateHash: fields[.stateHash, default: ""])
        case .adminTOTPSecret: TokenVault.Context.adminTOTPSecret(adminName: fields[.adminName, default: ""])
        case .partnerWebhookSecret: TokenVault.Context.partnerSecret(partnerId: fields[.partnerId, default: ""])
        }
    }
}
