import Foundation

/// One OAuth attempt: the state's hash, the sealed PKCE verifier, and what became of it.
struct AuthorizationRecord: Codable, Sendable, Equatable {
    var stateHash: String
    var sealedCodeVerifier: String
    var scopes: String
    var flow: OAuthFlow
    var partnerLinkId: String?
    var returnUrl: String?
    var browserBindingHash: String
    var createdAt: Date
    var expiresAt: Date
    var consumedAt: Date?
    var outcome: AuthorizationOutcome?
    var merchantId: String?
}
