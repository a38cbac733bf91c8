import Foundation

/// Keeping tokens alive: refresh leases and their outcomes, status checks, expiry.
protocol TokenLifeStore: Sendable {
    /// Up to `limit` connections due for a refresh and free to lease, soonest-expiring first, chosen by the database.
    func connectionsDueForRefresh(
        settings: TokenLifeSettings,
        now: Date,
        merchantId: String?,
        limit: Int
    ) async throws(StorageError)
        -> [ConnectionRecord]

    /// How many connections are due for a refresh and free to lease.
    func countConnectionsDueForRefresh(settings: TokenLifeSettings, now: Date) async throws(StorageError) -> Int

    /// Leases a connection for one refresh with a conditional update; `force` skips the due check.
    func leaseForRefresh(
        connectionId: Int64,
        owner: String,
        settings: TokenLifeSettings,
        force: Bool,
        now: Date
    )

        async throws(StorageError) -> Result<RefreshLease, LeaseRefusal>
    /// The ids of up to `limit` connections due for a refresh and free to lease, in `connectionsDueForRefresh`'s order.
    func connectionIdsDueForRefresh(settings: TokenLifeSettings, now: Date, limit: Int) async throws(StorageError) -> [Int64]

    /// Leases, in one transaction, each of `connectionIds` still due, refreshable and free (not backing off), each by the
    /// same conditional update as `leaseForRefresh`; the others are left out of the answer.
    func leaseForRefresh(connectionIds: [Int64], owner: String, settings: TokenLifeSettings, now: Date) async throws(StorageError) -> [RefreshLease]

    /// Stores refreshed tokens, clears the lease and failures, and audits; false when the connection was revoked meanwhile.
    func saveRefreshedTokens(
        _ tokens: RefreshedTokens,
        connectionId: Int64,
        now: Date,
        audit: AuditEventRecord
    )

        async throws(StorageError) -> Bool
    /// Counts a failed refresh that may succeed later, schedules the retry, releases the lease.
    func recordRefreshFailure(
        connectionId: Int64,
        reason: String,
        retryAt: Date,
        now: Date,
        audit: AuditEventRecord
    )

        async throws(StorageError)
    /// Marks a connection as needing the merchant to authorize again (never a revoked one), releasing any lease.
    func markNeedsReauth(connectionId: Int64, reason: String, now: Date, audit: AuditEventRecord) async throws(StorageError)

    /// Lets go of a lease without changing anything else.
    func releaseLease(connectionId: Int64, owner: String) async throws(StorageError)

    /// Lets go of several leases in one transaction; only the owner's leases are released.
    func releaseLeases(connectionIds: [Int64], owner: String) async throws(StorageError)

    /// How many active connections with an access token were not checked since `checkedBefore` (or never).
    func countConnectionsDueForStatusCheck(checkedBefore: Date) async throws(StorageError) -> Int

    /// Up to `limit` of those, never checked first, then least recently checked, ties by id: the ones after `after` in
    /// that order (keyset paging), so a check that changed nothing (Square did not answer) is not read again.
    func connectionsDueForStatusCheck(checkedBefore: Date, after: DueStatusCheck?, limit: Int) async throws(StorageError) -> [DueStatusCheck]

    /// Records a status check Square answered with success.
    func recordHealthyStatus(connectionId: Int64, scopes: String?, expiresAt: Date?, now: Date) async throws(StorageError)

    /// Records a status check that found the access token expired (only an active connection changes).
    func markAccessTokenExpired(connectionId: Int64, now: Date, audit: AuditEventRecord) async throws(StorageError)
}

/// A row held for one refresh: the connection as read under the lease, and who holds it.
struct RefreshLease: Sendable, Equatable {
    var connection: ConnectionRecord
    var owner: String
    /// The row still carried a lapsed lease: an earlier refresh stopped (crash, kill) before it finished.
    var previousAttemptInterrupted: Bool
}

/// What a refresh brought back from Square, already sealed.
struct RefreshedTokens: Sendable {
    var sealedAccessToken: String
    /// Nil when Square returned no refresh token (the stored one stays).
    var sealedRefreshToken: String?
    var expiresAt: Date?
    var refreshTokenExpiresAt: Date?
    var shortLived: Bool
}

/// A connection due for a status check, and its place in the due set's order (when it was last checked, then id).
struct DueStatusCheck: Sendable, Equatable {
    var id: Int64
    var lastCheckedAt: Date?
}

/// Why a lease was not granted.
enum LeaseRefusal: Error, Sendable, Equatable {
    case notFound
    case notRefreshable(status: ConnectionStatus)
    case notDue
    case busy(until: Date)
}

extension TokenLifeStore {
    /// Every connection due for a refresh (tests and small sets; passes read in batches).
    func connectionsDueForRefresh(
        settings: TokenLifeSettings,
        now: Date,
        merchantId: String?
    ) async throws(StorageError)
        -> [ConnectionRecord]
    {
        try await connectionsDueForRefresh(settings: settings, now: now, merchantId: merchantId, limit: Int(Int32.max))
    }
}
