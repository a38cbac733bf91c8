import Foundation
import GRDB

extension AppDatabase {
    func saveConnection(
        _ grant: ConnectionGrant,
        stateHash: String,
        session: MerchantSessionSeed,
        audit: AuditEventRecord
    ) async throws(StorageError) -> SavedConnection {
        try await write { db in
            let existing = try Self.connection(db, environment: grant.environment, merchantId: grant.merchantId)
            var connection =
                existing
                ?? ConnectionRecord(
                    environment: grant.environment,
                    merchantId: grant.merchantId,
                    tokenType: grant.tokenType,
                    scopes: grant.scopes,
                    shortLived: grant.shortLived,
                    flow: grant.flow,
                    status: .active,
                    connectedAt: grant.receivedAt,
                    refreshFailureCount: 0,
                    updatedAt: grant.receivedAt
                )
            connection.sealedAccessToken = grant.sealedAccessToken
            connection.sealedRefreshToken = grant.sealedRefreshToken
            connection.tokenType = grant.tokenType
            connection.expiresAt = grant.expiresAt
            connection.refreshTokenExpiresAt = grant.refreshTokenExpiresAt
            connection.scopes = grant.scopes
            connection.shortLived = grant.shortLived
            connection.flow = grant.flow
            connection.status = .active
            connection.connectedAt = grant.receivedAt
            connection.lastRefreshedAt = grant.receivedAt
            connection.lastCheckedAt = grant.scopesConfirmed ? grant.receivedAt : nil
            connection.revokedAt = nil
            connection.revokedBy = nil
            connection.refreshLeaseUntil = nil
            connection.refreshLeaseOwner = nil
            connection.nextRefreshAt = nil
            connection.refreshFailureCount = 0
            connection.lastError = nil
            connection.updatedAt = grant.receivedAt
            var heldByAnotherPartner = false
            if let link = grant.partnerLink {
                if connection.partnerId == nil || connection.partnerId == link.partnerId {
                    connection.partnerId = link.partnerId
                    connection.partnerReference = link.reference
                } else {
                    heldByAnotherPartner = true
                }
                try OnboardingLinkRecord.filter(key: link.linkId).filter(OnboardingLinkRecord.Columns.usedAt == nil)
                    .updateAll(
                        db,
                        OnboardingLinkRecord.Columns.usedAt.set(to: grant.receivedAt),
                        Column("merchantId").set(to: grant.merchantId)
                    )
            }
            try connection.save(db)

            if var authorization = try AuthorizationRecord.fetchOne(db, key: stateHash) {
                authorization.outcome = .connected
                authorization.merchantId = grant.merchantId
                try authorization.update(db)
            }
            try MerchantSessionRecord(
                sessionHash: session.hash,
                connectionId: connection.id!,
                csrfToken: session.csrfToken,
                createdAt: grant.receivedAt,
                expiresAt: session.expiresAt
            ).insert(db)
            var audit = audit
            try audit.insert(db)
            return SavedConnection(connection: connection, reconnected: existing != nil, heldByAnotherPartner: heldByAnotherPartner)
        }
    }

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
            guard var connection = try ConnectionRecord.fetchOne(db, key: connectionId) else { return .notFound }
            var audit = audit
            if connection.status == .revoked {
                audit.action = .revocationConfirmed
                try audit.insert(db)
                return .alreadyRevoked
            }
            connection.revoke(by: revokedBy, at: now)
            try connection.update(db)
            try audit.insert(db)
            return .revoked
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
                var connection = connection
                try connection.insert(db)
            }
            for event in audit {
                var event = event
                try event.insert(db)
            }
        }
    }

    func connection(id: Int64) async throws(StorageError) -> ConnectionRecord? {
        try await read { db in try ConnectionRecord.fetchOne(db, key: id) }
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
