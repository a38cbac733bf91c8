import Foundation

/// Connections and the merchant sessions beside them: a grant stored, read, revoked (claimed first, so once), imported, and Square's own events applied.
protocol ConnectionStore: Sendable {
    /// Stores a fresh grant: upserts the connection, closes the authorization, opens a merchant session, audits; a
    /// partner's link is marked used and names the connection's partner (unless another partner has it already).
    func saveConnection(
        _ grant: ConnectionGrant,
        stateHash: String,
        session: MerchantSessionSeed,
        audit: AuditEventRecord
    ) async throws(StorageError) -> SavedConnection

    /// The session a browser cookie's hash names, with its connection, while the session lasts.
    func merchantSession(hash: String, now: Date) async throws(StorageError) -> MerchantSession?

    /// Claims the right to revoke a connection at Square, so one caller talks to Square and the others wait for it.
    func claimRevocation(connectionId: Int64, owner: String, until: Date, now: Date) async throws(StorageError) -> RevocationClaim

    /// Gives up a revocation claim without revoking (Square did not confirm); only the owner's claim is released.
    func releaseRevocationClaim(connectionId: Int64, owner: String) async throws(StorageError)

    /// Ends a connection and forgets its tokens; audits only the first revocation, a later one as a confirmation.
    func markRevoked(
        connectionId: Int64,
        by revokedBy: String,
        now: Date,
        audit: AuditEventRecord
    ) async throws(StorageError)
        -> RevocationResult

    func connection(id: Int64) async throws(StorageError) -> ConnectionRecord?

    func connection(environment: String, merchantId: String) async throws(StorageError) -> ConnectionRecord?

    /// Adds connections made outside the OAuth flow (seeding, a move from another system) with their audit events, all
    /// in one transaction; a merchant already connected in the same environment fails the whole batch. The records'
    /// ids are not read: each new row gets the next one.
    func importConnections(_ connections: [ConnectionRecord], audit: [AuditEventRecord]) async throws(StorageError)

    /// Every connection in id order (passes over one merchant, tests).
    func allConnections() async throws(StorageError) -> [ConnectionRecord]

    /// Records a Square event once and, for `oauth.authorization.revoked`, revokes the connection, in one transaction.
    func applySquareEvent(
        _ event: SquareEventRecord,
        environment: String,
        revokedBy: String?
    ) async throws(StorageError)
        -> SquareEventResult
}

/// What a successful token exchange leaves to store, tokens already sealed.
struct ConnectionGrant: Sendable {
    var environment: String
    var merchantId: String
    var sealedAccessToken: String
    var sealedRefreshToken: String?
    var tokenType: String
    var expiresAt: Date?
    var refreshTokenExpiresAt: Date?
    var scopes: String
    var scopesConfirmed: Bool
    var shortLived: Bool
    var flow: OAuthFlow
    var receivedAt: Date
    /// The partner link that brought the merchant, if one did.
    var partnerLink: PartnerLinkUse? = nil
}

/// What storing a grant did.
struct SavedConnection: Sendable, Equatable {
    var connection: ConnectionRecord
    /// The merchant was connected before (in any status): the same row was re-authorised, not a new one made.
    var reconnected: Bool
    /// The grant came through a partner's link, but another partner already had this connection, which stays theirs.
    var heldByAnotherPartner: Bool = false
}

/// A merchant session to open beside a new connection: the cookie's hash, its CSRF token, its end.
struct MerchantSessionSeed: Sendable {
    var hash: String
    var csrfToken: String
    var expiresAt: Date
}

/// A live merchant session and the connection it shows.
struct MerchantSession: Sendable, Equatable {
    var session: MerchantSessionRecord
    var connection: ConnectionRecord
}

/// What `markRevoked` did.
enum RevocationResult: Sendable, Equatable {
    case revoked
    /// It was revoked before (for example by Square's webhook); recorded as a confirmation.
    case alreadyRevoked
    case notFound
}

/// What asking to revoke a connection found.
enum RevocationClaim: Sendable, Equatable {
    /// This caller may revoke; the connection as it stood.
    case claimed(ConnectionRecord)
    /// Nothing to do: it is revoked already.
    case alreadyRevoked(ConnectionRecord)
    /// Someone else is revoking it until the given time.
    case busy(until: Date)
    case notFound
}

/// What handling an inbound Square event did.
enum SquareEventResult: Sendable, Equatable {
    /// The event id was seen before: Square retried; nothing was done again.
    case duplicate
    /// The connection was marked revoked.
    case revoked(merchantId: String)
    /// Square confirmed a revocation we had already recorded.
    case confirmed(merchantId: String)
    /// Recorded, but no connection needed a change (unknown merchant, other event type).
    case noChange
}
