import Foundation
import GRDB

/// One OAuth attempt: the state's hash, the sealed PKCE verifier, and what became of it.
struct AuthorizationRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "authorization"

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

    enum Columns {
        static let stateHash = Column(CodingKeys.stateHash)
        static let consumedAt = Column(CodingKeys.consumedAt)
        static let outcome = Column(CodingKeys.outcome)
    }
}
