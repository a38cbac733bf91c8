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

extension AuthorizationRecord {
    // Read by name, as `ConnectionRecord` is: every callback reads one (`RecordDecodingTests`).
    init(row: Row) throws {
        stateHash = try row.decode(forColumn: "stateHash")
        sealedCodeVerifier = try row.decode(forColumn: "sealedCodeVerifier")
        scopes = try row.decode(forColumn: "scopes")
        flow = try row.decode(forColumn: "flow")
        partnerLinkId = try row.decode(forColumn: "partnerLinkId")
        returnUrl = try row.decode(forColumn: "returnUrl")
        browserBindingHash = try row.decode(forColumn: "browserBindingHash")
        createdAt = try row.decode(forColumn: "createdAt")
        expiresAt = try row.decode(forColumn: "expiresAt")
        consumedAt = try row.decode(forColumn: "consumedAt")
        outcome = try row.decode(forColumn: "outcome")
        merchantId = try row.decode(forColumn: "merchantId")
    }
}
