import Foundation
import GRDB

/// One OAuth attempt: the state's hash, the sealed PKCE verifier, and what became of it.
struct AuthorizationRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "authorization"

    var stateHash: String
    var sealedCodeVerifier: String
    var scopes: String
    var flow: String
    var partnerLinkId: String?
    var returnUrl: String?
    var browserBindingHash: String
    var createdAt: Date
    var expiresAt: Date
    var consumedAt: Date?
    var outcome: String?
    var merchantId: String?

    enum Columns {
        static let stateHash = Column(CodingKeys.stateHash)
        static let consumedAt = Column(CodingKeys.consumedAt)
        static let outcome = Column(CodingKeys.outcome)
    }
}

/// One merchant's connection in one Square environment; tokens only as sealed boxes.
struct ConnectionRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "connection"

    var id: Int64?
    var environment: String
    var merchantId: String
    var sealedAccessToken: String?
    var sealedRefreshToken: String?
    var tokenType: String
    var expiresAt: Date?
    var refreshTokenExpiresAt: Date?
    var scopes: String
    var shortLived: Bool
    var flow: String
    var status: String
    var partnerId: String?
    var partnerReference: String?
    var connectedAt: Date
    var lastRefreshedAt: Date?
    var lastCheckedAt: Date?
    var revokedAt: Date?
    var revokedBy: String?
    var refreshLeaseUntil: Date?
    var refreshFailureCount: Int
    var lastError: String?
    var updatedAt: Date
    var refreshLeaseOwner: String? = nil
    var nextRefreshAt: Date? = nil

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let environment = Column(CodingKeys.environment)
        static let merchantId = Column(CodingKeys.merchantId)
        static let status = Column(CodingKeys.status)
        static let sealedRefreshToken = Column(CodingKeys.sealedRefreshToken)
        static let sealedAccessToken = Column(CodingKeys.sealedAccessToken)
        static let expiresAt = Column(CodingKeys.expiresAt)
        static let refreshTokenExpiresAt = Column(CodingKeys.refreshTokenExpiresAt)
        static let connectedAt = Column(CodingKeys.connectedAt)
        static let lastRefreshedAt = Column(CodingKeys.lastRefreshedAt)
        static let lastCheckedAt = Column(CodingKeys.lastCheckedAt)
        static let refreshLeaseUntil = Column(CodingKeys.refreshLeaseUntil)
        static let nextRefreshAt = Column(CodingKeys.nextRefreshAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// Ends the connection: status `revoked`, who and when, and its sealed tokens and refresh state forgotten.
    mutating func revoke(by revokedBy: String, at now: Date) {
        status = ConnectionStatus.revoked.rawValue
        revokedAt = now
        self.revokedBy = revokedBy
        sealedAccessToken = nil
        sealedRefreshToken = nil
        refreshLeaseUntil = nil
        refreshLeaseOwner = nil
        nextRefreshAt = nil
        updatedAt = now
    }

    /// The access token's age is measured from its last refresh, or from the connection when never refreshed.
    var tokenIssuedAt: Date { lastRefreshedAt ?? connectedAt }
}

/// A Square webhook event already handled, kept so Square's retries are answered without acting twice.
struct SquareEventRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "squareEvent"

    var eventId: String
    var type: String
    var merchantId: String?
    var receivedAt: Date
}

/// Connection statuses as stored.
enum ConnectionStatus: String, Sendable {
    case active
    case needsReauth = "needs_reauth"
    case revoked
    case expired
}

/// A browser that just connected: lets it see its connection and disconnect it.
struct MerchantSessionRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "merchantSession"

    var sessionHash: String
    var connectionId: Int64
    var csrfToken: String
    var createdAt: Date
    var expiresAt: Date

    enum Columns {
        static let sessionHash = Column(CodingKeys.sessionHash)
    }
}

/// Append-only record of who did what; never holds a secret.
struct AuditEventRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "auditEvent"

    var id: Int64?
    var occurredAt: Date
    var actor: String
    var action: String
    var merchantId: String?
    var detail: String

    init(occurredAt: Date, actor: String, action: String, merchantId: String? = nil, detail: String = "") {
        self.occurredAt = occurredAt
        self.actor = actor
        self.action = action
        self.merchantId = merchantId
        self.detail = detail
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let action = Column(CodingKeys.action)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
