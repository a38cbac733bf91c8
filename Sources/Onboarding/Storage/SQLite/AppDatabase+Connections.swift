import Foundation
import GRDB

extension AppDatabase {
    func saveConnection(
        _ grant: ConnectionGrant,
        stateHash: String,
        session: MerchantSessionSeed,
        audit: AuditEventRecord
    ) async throws(StorageError) -> SavedConnection {
        try await groupedWrite { db in
            // Every connect runs this: cached statements and one upsert cost far less than records' generated SQL.
            let before = try ConnectionRecord.fetchOne(
                db.cachedStatement(sql: #"SELECT * FROM "connection" WHERE environment = ? AND merchantId = ?"#),
                arguments: [grant.environment, grant.merchantId]
            )
            let reconnected: Bool
            switch ConnectionRules.grant(onto: before, through: grant.partnerLink) {
            case .refuse(let holder):
                guard let before, let link = grant.partnerLink else { throw StorageError.constraintViolated("a refusal without a holder") }
                return try Self.refuseForAnotherPartner(
                    db,
                    grant: grant,
                    held: before,
                    link: link,
                    holder: holder,
                    stateHash: stateHash,
                    audit: audit
                )
            case .connect(let renewsLive):
                reconnected = renewsLive
            }
            let receivedAt = StorageTimestamp(grant.receivedAt)
            let link = grant.partnerLink
            // Dates are bound as `StorageTimestamp`s: the same text without `DateFormatter` on every connect.
            let connection = try ConnectionRecord.fetchOne(
                db.cachedStatement(sql: Self.upsertConnectionSQL),
                arguments: [
                    grant.environment, grant.merchantId, grant.sealedAccessToken, grant.sealedRefreshToken, grant.tokenType,
                    grant.expiresAt.map(StorageTimestamp.init), grant.refreshTokenExpiresAt.map(StorageTimestamp.init), grant.scopes,
                    grant.shortLived, grant.flow, ConnectionStatus.active, receivedAt, receivedAt,
                    grant.scopesConfirmed ? receivedAt : nil, receivedAt, link?.partnerId, link?.reference, link?.linkId,
                ]
            )
            guard let connection else { throw StorageError.constraintViolated("the connection was not stored") }
            try Self.queuePartnerEvents(db, before: before, after: connection)
            if let used = grant.partnerLink {
                try Self.completeLink(
                    db,
                    id: used.linkId,
                    at: grant.receivedAt,
                    merchantId: grant.merchantId,
                    result: reconnected ? .reconnected : .connected,
                    error: nil
                )
            }
            try db.cachedStatement(sql: #"UPDATE "authorization" SET outcome = ?, merchantId = ? WHERE stateHash = ?"#)
                .execute(arguments: [AuthorizationOutcome.connected, grant.merchantId, stateHash])
            try db.cachedStatement(
                sql: #"INSERT INTO "merchantSession" (sessionHash, connectionId, csrfToken, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?)"#
            ).execute(arguments: [session.hash, connection.id, session.csrfToken, receivedAt, StorageTimestamp(session.expiresAt)])
            try db.cachedStatement(sql: "INSERT INTO auditEvent (occurredAt, actor, action, merchantId, detail) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [StorageTimestamp(audit.occurredAt), audit.actor, audit.action, audit.merchantId, audit.detail])
            return SavedConnection(connection: connection, reconnected: reconnected)
        }
    }

    /// Leaves the connection another partner holds exactly as it is: the link is used up, the attempt closed and the
    /// refusal audited; Square's new tokens are dropped unstored (revoking them would end the holder's too).
    private static func refuseForAnotherPartner(
        _ db: Database,
        grant: ConnectionGrant,
        held: ConnectionRecord,
        link: PartnerLinkUse,
        holder: String,
        stateHash: String,
        audit: AuditEventRecord
    ) throws -> SavedConnection {
        try completeLink(db, id: link.linkId, at: grant.receivedAt, merchantId: nil, result: .connectedThroughAnotherPartner, error: nil)
        try db.execute(
            sql: #"UPDATE "authorization" SET outcome = ?, merchantId = ? WHERE stateHash = ?"#,
            arguments: [AuthorizationOutcome.heldByAnotherPartner, grant.merchantId, stateHash]
        )
        var refusal = audit
        refusal.action = .authorizationRefused
        refusal.detail =
            "reason=connected_through_another_partner link=\(link.linkId) partner=\(link.partnerId) holder=\(holder); "
            + "the connection was left as it was and Square's new token was not kept"
        try refusal.insert(db)
        return SavedConnection(connection: held, reconnected: false, heldByAnotherPartner: true)
    }

    /// Inserts a connection or, for a merchant connected before, renews it: fresh tokens, active, refresh state cleared;
    /// a partner's link (only passed when the connection is free or already that partner's) sets partner and reference.
    private static let upsertConnectionSQL = """
        INSERT INTO "connection" (
            environment, merchantId, sealedAccessToken, sealedRefreshToken, tokenType, expiresAt, refreshTokenExpiresAt,
            scopes, shortLived, flow, status, connectedAt, lastRefreshedAt, lastCheckedAt, refreshFailureCount, updatedAt,
            partnerId, partnerReference, partnerLinkId
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
        ON CONFLICT (environment, merchantId) DO UPDATE SET
            sealedAccessToken = excluded.sealedAccessToken, sealedRefreshToken = excluded.sealedRefreshToken,
            tokenType = excluded.tokenType, expiresAt = excluded.expiresAt, refreshTokenExpiresAt = excluded.refreshTokenExpiresAt,
            scopes = excluded.scopes, shortLived = excluded.shortLived, flow = excluded.flow, status = excluded.status,
            connectedAt = excluded.connectedAt, lastRefreshedAt = excluded.lastRefreshedAt, lastCheckedAt = excluded.lastCheckedAt,
            revokedAt = NULL, revokedBy = NULL, refreshLeaseUntil = NULL, refreshLeaseOwner = NULL, nextRefreshAt = NULL,
            refreshFailureCount = 0, lastError = NULL, updatedAt = excluded.updatedAt,
            partnerId = COALESCE(excluded.partnerId, "connection".partnerId),
            partnerReference = COALESCE(excluded.partnerReference, "connection".partnerReference),
            partnerLinkId = excluded.partnerLinkId
        RETURNING *
        """

    func merchantSession(hash: String, now: Date) async throws(StorageError) -> MerchantSession? {
        try await read { db in
            guard let session = try MerchantSessionRecord.fetchOne(db, key: hash), session.expiresAt > now,
                let connection = try ConnectionRecord.fetchOne(db, key: session.connectionId)
            else { return nil }
            return MerchantSession(session: session, connection: connection)
        }
    }

    func markRevoked(
        connectionId: Int64,
        by revokedBy: String,
        now: Date,
        audit: AuditEventRecord
    ) async throws(StorageError)
        -> RevocationResult
    {
        try await write { db in
            var audit = audit
            var result = RevocationResult.revoked
            let found = try Self.changeConnection(db, id: connectionId) { connection in
                guard ConnectionRules.ourRevocation(of: connection) == .revoke else {
                    result = .alreadyRevoked
                    return false
                }
                var revoked = connection
                revoked.revoke(by: revokedBy, at: now)
                try revoked.update(db)
                return true
            }
            guard found != nil else { return .notFound }
            if result == .alreadyRevoked { audit.action = .revocationConfirmed }
            try audit.insert(db)
            return result
        }
    }

    func claimRevocation(connectionId: Int64, owner: String, until: Date, now: Date) async throws(StorageError) -> RevocationClaim {
        try await write { db in
            guard var connection = try ConnectionRecord.fetchOne(db, key: connectionId) else { return .notFound }
            if connection.status == .revoked { return .alreadyRevoked(connection) }
            if connection.isBeingRevoked(at: now), let busyUntil = connection.revokeClaimUntil { return .busy(until: busyUntil) }
            connection.revokeClaimOwner = owner
            connection.revokeClaimUntil = until
            try connection.update(db)
            return .claimed(connection)
        }
    }

    func releaseRevocationClaim(connectionId: Int64, owner: String) async throws(StorageError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE connection SET revokeClaimOwner = NULL, revokeClaimUntil = NULL WHERE id = ? AND revokeClaimOwner = ?",
                arguments: [connectionId, owner]
            )
        }
    }

    func importConnections(_ connections: [ConnectionRecord], audit: [AuditEventRecord]) async throws(StorageError) {
        try await write { db in
            for connection in connections {
                // A new row: every column the record holds but its id, which the database gives.
                var values = try connection.databaseDictionary
                values.removeValue(forKey: "id")
                let columns = values.keys.sorted()
                let inserted = try ConnectionRecord.fetchOne(
                    db,
                    sql: """
                        INSERT INTO "connection" (\(columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")))
                        VALUES (\(databaseQuestionMarks(count: columns.count))) RETURNING *
                        """,
                    arguments: StatementArguments(columns.map { values[$0] })
                )
                guard let inserted else { throw StorageError.constraintViolated("an imported connection was not stored") }
                try Self.queuePartnerEvents(db, before: nil, after: inserted)
            }
            for event in audit {
                var event = event
                try event.insert(db)
            }
        }
    }

    func connection(id: Int64) async throws(StorageError) -> ConnectionRecord? {
        try await read { db in try ConnectionRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM connection WHERE id = ?"), arguments: [id]) }
    }

    func connection(environment: String, merchantId: String) async throws(StorageError) -> ConnectionRecord? {
        try await read { db in try Self.connection(db, environment: environment, merchantId: merchantId) }
    }

    func allConnections() async throws(StorageError) -> [ConnectionRecord] {
        try await read { db in try ConnectionRecord.order(ConnectionRecord.Columns.id).fetchAll(db) }
    }

    static func connection(_ db: Database, environment: String, merchantId: String) throws -> ConnectionRecord? {
        try ConnectionRecord
            .filter(ConnectionRecord.Columns.environment == environment)
            .filter(ConnectionRecord.Columns.merchantId == merchantId)
            .fetchOne(db)
    }

    // MARK: Environment identity

    func connectionEnvironments() async throws(StorageError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT DISTINCT environment FROM connection ORDER BY environment") }
    }

    func connections(inEnvironments environments: [String]) async throws(StorageError) -> [ConnectionRecord] {
        try await read { db in
            try ConnectionRecord.filter(environments.contains(ConnectionRecord.Columns.environment))
                .order(ConnectionRecord.Columns.id).fetchAll(db)
        }
    }

    func rekeyConnections(_ changes: [ConnectionRekey], audit: AuditEventRecord) async throws(StorageError) {
        try await write { db in
            for change in changes {
                try db.execute(
                    sql: """
                        UPDATE connection SET environment = ?, sealedAccessToken = ?, sealedRefreshToken = ?
                        WHERE id = ? AND environment = ?
                        """,
                    arguments: [
                        change.toEnvironment, change.sealedAccessToken, change.sealedRefreshToken, change.connectionId,
                        change.fromEnvironment,
                    ]
                )
                guard db.changesCount == 1 else {
                    throw StorageError.constraintViolated("connection \(change.connectionId) changed while being re-keyed")
                }
            }
            var audit = audit
            try audit.insert(db)
        }
    }
}
