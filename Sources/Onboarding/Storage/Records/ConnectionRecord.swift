import Foundation
import GRDB

/// One merchant's connection in one Square environment; tokens only as sealed boxes.
struct ConnectionRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "connection"

    var id: Int64?
    /// The environment's stable name (`production`, `sandbox`, or the operator's name for a custom URL).
    var environment: String
    var merchantId: String
    var sealedAccessToken: String?
    var sealedRefreshToken: String?
    var tokenType: String
    var expiresAt: Date?
    var refreshTokenExpiresAt: Date?
    var scopes: String
    var shortLived: Bool
    var flow: OAuthFlow
    var status: ConnectionStatus
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
    /// Who is revoking this connection at Square right now, and until when the claim holds.
    var revokeClaimOwner: String? = nil
    var revokeClaimUntil: Date? = nil
    /// The partner's link that last connected it (nil when the merchant came without one): its events name it.
    var partnerLinkId: String? = nil

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
        status = .revoked
        revokedAt = now
        self.revokedBy = revokedBy
        sealedAccessToken = nil
        sealedRefreshToken = nil
        refreshLeaseUntil = nil
        refreshLeaseOwner = nil
        nextRefreshAt = nil
        revokeClaimOwner = nil
        revokeClaimUntil = nil
        updatedAt = now
    }

    /// Whether a revocation at Square is in flight for this connection at `now`.
    func isBeingRevoked(at now: Date) -> Bool {
        revokeClaimUntil.map { $0 > now } ?? false
    }

    /// An active connection whose scopes are still those asked for: no status check has confirmed the granted ones.
    var scopesUnconfirmed: Bool { status == .active && lastCheckedAt == nil }

    /// The access token's age is measured from its last refresh, or from the connection when never refreshed.
    var tokenIssuedAt: Date { lastRefreshedAt ?? connectedAt }

    /// Whether the connection still holds a token that Square could be asked to revoke.
    var holdsToken: Bool { status != .revoked && (sealedAccessToken != nil || sealedRefreshToken != nil) }
}

extension ConnectionRecord {
    // Every connect and list page decodes these: reading the columns by name costs a fraction of `Decodable`'s
    // keyed container (perf: 3.7 % of a callback). `RecordDecodingTests` checks it reads back what `Encodable` stored.
    init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        environment = try row.decode(forColumn: "environment")
        merchantId = try row.decode(forColumn: "merchantId")
        sealedAccessToken = try row.decode(forColumn: "sealedAccessToken")
        sealedRefreshToken = try row.decode(forColumn: "sealedRefreshToken")
        tokenType = try row.decode(forColumn: "tokenType")
        expiresAt = try row.decode(forColumn: "expiresAt")
        refreshTokenExpiresAt = try row.decode(forColumn: "refreshTokenExpiresAt")
        scopes = try row.decode(forColumn: "scopes")
        shortLived = try row.decode(forColumn: "shortLived")
        flow = try row.decode(forColumn: "flow")
        status = try row.decode(forColumn: "status")
        partnerId = try row.decode(forColumn: "partnerId")
        partnerReference = try row.decode(forColumn: "partnerReference")
        connectedAt = try row.decode(forColumn: "connectedAt")
        lastRefreshedAt = try row.decode(forColumn: "lastRefreshedAt")
        lastCheckedAt = try row.decode(forColumn: "lastCheckedAt")
        revokedAt = try row.decode(forColumn: "revokedAt")
        revokedBy = try row.decode(forColumn: "revokedBy")
        refreshLeaseUntil = try row.decode(forColumn: "refreshLeaseUntil")
        refreshFailureCount = try row.decode(forColumn: "refreshFailureCount")
        lastError = try row.decode(forColumn: "lastError")
        updatedAt = try row.decode(forColumn: "updatedAt")
        refreshLeaseOwner = try row.decode(forColumn: "refreshLeaseOwner")
        nextRefreshAt = try row.decode(forColumn: "nextRefreshAt")
        revokeClaimOwner = try row.decode(forColumn: "revokeClaimOwner")
        revokeClaimUntil = try row.decode(forColumn: "revokeClaimUntil")
        partnerLinkId = try row.decode(forColumn: "partnerLinkId")
    }
}
