import Foundation

/// One merchant's connection in one Square environment; tokens only as sealed boxes.
struct ConnectionRecord: Codable, Sendable, Equatable {
    /// Given by the store when the row is made; every row read back has one.
    var id: Int64
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
