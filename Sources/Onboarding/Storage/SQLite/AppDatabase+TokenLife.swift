import Foundation
import GRDB

extension AppDatabase {
    func connectionsDueForRefresh(
        settings: TokenLifeSettings,
        now: Date,
        merchantId: String?,
        limit: Int
    ) async throws(StorageError)
        -> [ConnectionRecord]
    {
        let (condition, arguments) = Self.dueForRefresh(settings: settings, now: now, merchantId: merchantId)
        // SQLite sorts NULL first in ascending order: connections with no known expiry are looked at first.
        let sql = "SELECT * FROM connection WHERE \(condition) ORDER BY expiresAt ASC, id ASC LIMIT \(max(1, limit))"
        return try await read { db in try ConnectionRecord.fetchAll(db, sql: sql, arguments: arguments) }
    }

    func countConnectionsDueForRefresh(settings: TokenLifeSettings, now: Date) async throws(StorageError) -> Int {
        let (condition, arguments) = Self.dueForRefresh(settings: settings, now: now, merchantId: nil)
        return try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM connection WHERE \(condition)", arguments: arguments) ?? 0 }
    }

    /// `TokenLifeSettings.isDue` as SQL, plus "free to lease and not backing off"; each way of being due has an index (v7).
    static func dueForRefresh(settings: TokenLifeSettings, now: Date, merchantId: String?) -> (String, StatementArguments) {
        // Each way of being due is its own index range; the union holds only the rows actually due, so the pass
        // never walks the whole table (nearly every row is active, so the status index alone would not narrow it).
        var condition = """
            id IN (
                SELECT id FROM connection WHERE COALESCE(lastRefreshedAt, connectedAt) <= :issuedBefore
                UNION SELECT id FROM connection WHERE expiresAt <= :expiresBefore
                UNION SELECT id FROM connection WHERE refreshTokenExpiresAt <= :refreshExpiresBefore
                UNION SELECT id FROM connection WHERE status = 'expired')
            AND status IN ('active', 'expired') AND sealedRefreshToken IS NOT NULL
            AND (refreshLeaseUntil IS NULL OR refreshLeaseUntil <= :now)
            AND (nextRefreshAt IS NULL OR nextRefreshAt <= :now)
            """
        var arguments: [String: (any DatabaseValueConvertible)?] = [
            "now": now,
            "issuedBefore": now.addingTimeInterval(-settings.refreshAge),
            "expiresBefore": now.addingTimeInterval(settings.expiryMargin),
            "refreshExpiresBefore": now.addingTimeInterval(settings.refreshTokenMargin),
        ]
        if let merchantId {
            condition += " AND merchantId = :merchantId"
            arguments["merchantId"] = merchantId
        }
        return (condition, StatementArguments(arguments))
    }

    /// Leases a connection for one refresh with a conditional update; `force` skips the due check (admin, partner, CLI).
    func leaseForRefresh(
        connectionId: Int64,
        owner: String,
        settings: TokenLifeSettings,
        force: Bool,
        now: Date
    ) async throws(StorageError) -> Result<RefreshLease, LeaseRefusal> {
        try await write { db in
            guard let connection = try ConnectionRecord.fetchOne(db, key: connectionId) else { return .failure(.notFound) }
            guard ConnectionStatus.refreshable.contains(connection.status),
                connection.sealedRefreshToken != nil
            else { return .failure(.notRefreshable(status: connection.status)) }
            if let until = connection.refreshLeaseUntil, until > now { return .failure(.busy(until: until)) }
            guard force || settings.isDue(connection, now: now) else { return .failure(.notDue) }
            try db.execute(
                sql: """
                    UPDATE connection SET refreshLeaseUntil = ?, refreshLeaseOwner = ?, updatedAt = ?
                    WHERE id = ? AND (refreshLeaseUntil IS NULL OR refreshLeaseUntil <= ?)
                    """,
                arguments: [now.addingTimeInterval(settings.leaseDuration), owner, now, connectionId, now]
            )
            guard db.changesCount == 1 else { return .failure(.busy(until: now)) }
            return .success(
                RefreshLease(
                    connection: connection,
                    owner: owner,
                    previousAttemptInterrupted: connection.refreshLeaseUntil != nil
                )
            )
        }
    }

    /// The due set's ids only: a pass holds a page of them (8 bytes a row) and leases them a chunk at a time.
    func connectionIdsDueForRefresh(settings: TokenLifeSettings, now: Date, limit: Int) async throws(StorageError) -> [Int64] {
        let (condition, arguments) = Self.dueForRefresh(settings: settings, now: now, merchantId: nil)
        let sql = "SELECT id FROM connection WHERE \(condition) ORDER BY expiresAt ASC, id ASC LIMIT \(max(1, limit))"
        return try await read { db in try Int64.fetchAll(db, sql: sql, arguments: arguments) }
    }

    /// Leases, in one transaction, each of `connectionIds` that is still due, refreshable and free, as `leaseForRefresh` would.
    func leaseForRefresh(connectionIds: [Int64], owner: String, settings: TokenLifeSettings, now: Date) async throws(StorageError) -> [RefreshLease] {
        let until = now.addingTimeInterval(settings.leaseDuration)
        return try await write { db in
            let read = try db.cachedStatement(sql: "SELECT * FROM connection WHERE id = ?")
            let lease = try db.cachedStatement(sql: Self.leaseSQL)
            var leases: [RefreshLease] = []
            leases.reserveCapacity(connectionIds.count)
            for id in connectionIds {
                // Read again under the write lock: another process may have refreshed, failed or leased it since.
                guard let connection = try ConnectionRecord.fetchOne(read, arguments: [id]),
                    ConnectionStatus.refreshable.contains(connection.status), connection.sealedRefreshToken != nil,
                    connection.refreshLeaseUntil.map({ $0 <= now }) ?? true, connection.nextRefreshAt.map({ $0 <= now }) ?? true,
                    settings.isDue(connection, now: now)
                else { continue }
                try lease.execute(arguments: [until, owner, now, id, now])
                guard db.changesCount == 1 else { continue }
                leases.append(RefreshLease(connection: connection, owner: owner, previousAttemptInterrupted: connection.refreshLeaseUntil != nil))
            }
            return leases
        }
    }

    private static let leaseSQL = """
        UPDATE connection SET refreshLeaseUntil = ?, refreshLeaseOwner = ?, updatedAt = ?
        WHERE id = ? AND (refreshLeaseUntil IS NULL OR refreshLeaseUntil <= ?)
        """

    /// Stores refreshed tokens, clears the lease and failures, and audits, in one transaction.
    ///
    /// Returns false when the connection was revoked meanwhile (the new tokens are then dropped on purpose).
    func saveRefreshedTokens(_ tokens: RefreshedTokens, connectionId: Int64, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool {
        // A pass finishes many refreshes at once: their saves share a group commit, each in its own savepoint.
        try await groupedWrite { db in
            // Square's answer is the truth even if our lease lapsed: the old refresh token may be spent already.
            let changed = try Self.changeConnection(db, id: connectionId) { _ in
                try db.cachedStatement(sql: Self.saveRefreshSQL).execute(arguments: [
                    tokens.sealedAccessToken, tokens.sealedRefreshToken,
                    tokens.refreshTokenExpiresAt != nil || tokens.sealedRefreshToken != nil, tokens.refreshTokenExpiresAt,
                    tokens.expiresAt, tokens.shortLived, ConnectionStatus.active, now, now, connectionId, ConnectionStatus.revoked,
                ])
                return db.changesCount == 1
            }
            guard changed == true else { return false }
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    private static let saveRefreshSQL = """
        UPDATE connection SET sealedAccessToken = ?, sealedRefreshToken = COALESCE(?, sealedRefreshToken),
            refreshTokenExpiresAt = CASE WHEN ? THEN ? ELSE refreshTokenExpiresAt END,
            expiresAt = ?, shortLived = ?, status = ?, lastRefreshedAt = ?,
            refreshLeaseUntil = NULL, refreshLeaseOwner = NULL, nextRefreshAt = NULL, refreshFailureCount = 0, lastError = NULL,
            updatedAt = ?
        WHERE id = ? AND status != ?
        """

    /// Records a failed refresh that may succeed later: counts it, schedules the retry, releases the lease.
    func recordRefreshFailure(connectionId: Int64, reason: String, retryAt: Date, now: Date, audit: AuditEventRecord) async throws(StorageError) {
        try await write { db in
            _ = try Self.changeConnection(db, id: connectionId) { _ in
                try db.execute(
                    sql: """
                        UPDATE connection SET refreshFailureCount = refreshFailureCount + 1, lastError = ?, nextRefreshAt = ?,
                            refreshLeaseUntil = NULL, refreshLeaseOwner = NULL, updatedAt = ?
                        WHERE id = ?
                        """,
                    arguments: [reason, retryAt, now, connectionId]
                )
                return db.changesCount == 1
            }
            var audit = audit
            try audit.insert(db)
        }
    }

    /// Marks a connection as needing the merchant to authorize again, with the reason, and releases any lease.
    func markNeedsReauth(connectionId: Int64, reason: String, now: Date, audit: AuditEventRecord) async throws(StorageError) {
        try await write { db in
            _ = try Self.changeConnection(db, id: connectionId) { _ in
                try db.execute(
                    sql: """
                        UPDATE connection SET status = ?, lastError = ?, refreshLeaseUntil = NULL, refreshLeaseOwner = NULL,
                            nextRefreshAt = NULL, updatedAt = ?
                        WHERE id = ? AND status != ?
                        """,
                    arguments: [ConnectionStatus.needsReauth, reason, now, connectionId, ConnectionStatus.revoked]
                )
                return db.changesCount == 1
            }
            var audit = audit
            try audit.insert(db)
        }
    }

    /// Lets go of a lease without changing anything else (nothing was sent to Square).
    func releaseLease(connectionId: Int64, owner: String) async throws(StorageError) {
        try await releaseLeases(connectionIds: [connectionId], owner: owner)
    }

    /// Lets go of several leases in one transaction (nothing was sent to Square for any of them).
    func releaseLeases(connectionIds: [Int64], owner: String) async throws(StorageError) {
        try await write { db in
            let release = try db.cachedStatement(
                sql: "UPDATE connection SET refreshLeaseUntil = NULL, refreshLeaseOwner = NULL WHERE id = ? AND refreshLeaseOwner = ?"
            )
            for id in connectionIds { try release.execute(arguments: [id, owner]) }
        }
    }

    // MARK: Status checks

    /// The rows a status check can check, read through their partial index (v10), whose WHERE this repeats word for word.
    ///
    /// Named, because without statistics SQLite prefers the status index, which holds nearly every row, and would sort.
    static let statusCheckable = """
        connection INDEXED BY connection_status_check_due WHERE status = 'active' AND sealedAccessToken IS NOT NULL
        """

    func countConnectionsDueForStatusCheck(checkedBefore: Date) async throws(StorageError) -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: Self.countStatusDueSQL, arguments: [checkedBefore]) ?? 0
        }
    }

    // Two index ranges (never checked; checked before the cutoff): an OR of both would scan the whole index.
    static let countStatusDueSQL = """
        SELECT (SELECT COUNT(*) FROM \(statusCheckable) AND lastCheckedAt IS NULL)
            + (SELECT COUNT(*) FROM \(statusCheckable) AND lastCheckedAt < ?)
        """

    func connectionsDueForStatusCheck(checkedBefore: Date, after: DueStatusCheck?, limit: Int) async throws(StorageError) -> [DueStatusCheck] {
        let limit = max(1, limit)
        return try await read { db in
            var page: [DueStatusCheck] = []
            // Never checked (NULL sorts first), by id; then checked before the cutoff, by (lastCheckedAt, id).
            if after == nil || after?.lastCheckedAt == nil {
                let rows = try Row.fetchCursor(db, sql: Self.neverCheckedSQL, arguments: [after?.id ?? 0, limit])
                while let row = try rows.next() { page.append(DueStatusCheck(id: row[0], lastCheckedAt: nil)) }
            }
            guard page.count < limit else { return page }
            let (sql, arguments): (String, StatementArguments) =
                if let key = after?.lastCheckedAt, let id = after?.id {
                    (Self.checkedBeforeSQL(after: true), [checkedBefore, key, id, limit - page.count])
                } else {
                    (Self.checkedBeforeSQL(after: false), [checkedBefore, limit - page.count])
                }
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() { page.append(DueStatusCheck(id: row[0], lastCheckedAt: row[1])) }
            return page
        }
    }

    static let neverCheckedSQL = "SELECT id FROM \(statusCheckable) AND lastCheckedAt IS NULL AND id > ? ORDER BY id LIMIT ?"

    static func checkedBeforeSQL(after: Bool) -> String {
        """
        SELECT id, lastCheckedAt FROM \(statusCheckable) AND lastCheckedAt < ?\(after ? " AND (lastCheckedAt, id) > (?, ?)" : "")
        ORDER BY lastCheckedAt, id LIMIT ?
        """
    }

    /// Records a status check Square answered with success: scopes and expiry as Square sees them.
    func recordHealthyStatus(connectionId: Int64, scopes: String?, expiresAt: Date?, now: Date) async throws(StorageError) {
        try await groupedWrite { db in
            try db.cachedStatement(
                sql: """
                    UPDATE connection SET scopes = COALESCE(?, scopes), expiresAt = COALESCE(?, expiresAt), lastCheckedAt = ?, updatedAt = ?
                    WHERE id = ?
                    """
            ).execute(arguments: [scopes, expiresAt, now, now, connectionId])
        }
    }

    /// Records a status check that found the access token expired: the refresher renews it on its next pass.
    func markAccessTokenExpired(connectionId: Int64, now: Date, audit: AuditEventRecord) async throws(StorageError) {
        try await write { db in
            _ = try Self.changeConnection(db, id: connectionId) { _ in
                try db.execute(
                    sql: """
                        UPDATE connection SET status = ?, lastCheckedAt = ?, nextRefreshAt = NULL, updatedAt = ?
                        WHERE id = ? AND status = ?
                        """,
                    arguments: [
                        ConnectionStatus.expired, now, now, connectionId, ConnectionStatus.active,
                    ]
                )
                return db.changesCount == 1
            }
            var audit = audit
            try audit.insert(db)
        }
    }
}
