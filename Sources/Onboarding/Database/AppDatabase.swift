import Foundation
import GRDB

/// The service's SQLite database: migrated on open, written only through intention-named methods (one transaction each).
final class AppDatabase: Sendable {
    let writer: any DatabaseWriter

    /// Wraps a writer and runs every pending migration before anything else touches it.
    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Migrations.migrator.migrate(writer)
    }

    /// Opens (or creates) the WAL-mode database file, readable only by this user.
    static func open(path: String) throws -> AppDatabase {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        let pool = try DatabasePool(path: path, configuration: configuration)
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return try AppDatabase(pool)
    }

    var reader: any DatabaseReader { writer }

    // MARK: Authorizations

    /// What checking a callback's state found.
    enum StateCheck: Sendable, Equatable {
        case accepted(AuthorizationRecord)
        case unknown
        case expired
        case reused
        case otherBrowser
    }

    /// Records a new authorization attempt and its audit event.
    func startAuthorization(_ authorization: AuthorizationRecord, audit: AuditEventRecord) throws {
        try writer.write { db in
            try authorization.insert(db)
            var audit = audit
            try audit.insert(db)
        }
    }

    /// Checks a callback's state and, when it is good, marks it consumed in the same transaction.
    func consumeAuthorization(stateHash: String, browserBindingHash: String?, now: Date) throws -> StateCheck {
        try writer.write { db in
            guard var authorization = try AuthorizationRecord.fetchOne(db, key: stateHash) else { return .unknown }
            guard authorization.consumedAt == nil else { return .reused }
            guard authorization.expiresAt > now else { return .expired }
            guard let browserBindingHash, browserBindingHash == authorization.browserBindingHash else { return .otherBrowser }
            authorization.consumedAt = now
            authorization.outcome = "consumed"
            try authorization.update(db)
            return .accepted(authorization)
        }
    }

    /// Records how a consumed authorization ended when it produced no connection.
    func recordAuthorizationOutcome(stateHash: String, outcome: String, audit: AuditEventRecord) throws {
        try writer.write { db in
            if var authorization = try AuthorizationRecord.fetchOne(db, key: stateHash) {
                authorization.outcome = outcome
                try authorization.update(db)
            }
            var audit = audit
            try audit.insert(db)
        }
    }

    // MARK: Connections

    /// Stores a fresh grant: upserts the connection, closes the authorization, opens a merchant session, audits.
    func saveConnection(
        _ grant: ConnectionGrant,
        stateHash: String,
        session: (hash: String, csrfToken: String, expiresAt: Date),
        audit: AuditEventRecord
    ) throws -> ConnectionRecord {
        try writer.write { db in
            var connection =
                try ConnectionRecord
                .filter(ConnectionRecord.Columns.environment == grant.environment)
                .filter(ConnectionRecord.Columns.merchantId == grant.merchantId)
                .fetchOne(db)
                ?? ConnectionRecord(
                    environment: grant.environment,
                    merchantId: grant.merchantId,
                    tokenType: grant.tokenType,
                    scopes: grant.scopes,
                    shortLived: grant.shortLived,
                    flow: grant.flow,
                    status: ConnectionStatus.active.rawValue,
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
            connection.status = ConnectionStatus.active.rawValue
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
            try connection.save(db)

            if var authorization = try AuthorizationRecord.fetchOne(db, key: stateHash) {
                authorization.outcome = "connected"
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
            return connection
        }
    }

    /// The connection a merchant session cookie points at, while the session lasts.
    func merchantSession(hash: String, now: Date) throws -> (session: MerchantSessionRecord, connection: ConnectionRecord)? {
        try reader.read { db in
            guard let session = try MerchantSessionRecord.fetchOne(db, key: hash), session.expiresAt > now,
                let connection = try ConnectionRecord.fetchOne(db, key: session.connectionId)
            else { return nil }
            return (session, connection)
        }
    }

    /// Marks a connection revoked and forgets its tokens.
    func markRevoked(connectionId: Int64, by revokedBy: String, now: Date, audit: AuditEventRecord) throws {
        try writer.write { db in
            guard var connection = try ConnectionRecord.fetchOne(db, key: connectionId) else { return }
            connection.revoke(by: revokedBy, at: now)
            try connection.update(db)
            var audit = audit
            try audit.insert(db)
        }
    }

    /// Appends one audit event.
    func recordAudit(_ event: AuditEventRecord) throws {
        try writer.write { db in
            var event = event
            try event.insert(db)
        }
    }

    // MARK: Reads for pages, tests and health

    func connection(environment: String, merchantId: String) throws -> ConnectionRecord? {
        try reader.read { db in
            try ConnectionRecord
                .filter(ConnectionRecord.Columns.environment == environment)
                .filter(ConnectionRecord.Columns.merchantId == merchantId)
                .fetchOne(db)
        }
    }

    func authorization(stateHash: String) throws -> AuthorizationRecord? {
        try reader.read { db in try AuthorizationRecord.fetchOne(db, key: stateHash) }
    }

    func auditEvents() throws -> [AuditEventRecord] {
        try reader.read { db in try AuditEventRecord.order(AuditEventRecord.Columns.id).fetchAll(db) }
    }

    func counts() throws -> (authorizations: Int, connections: Int) {
        try reader.read { db in (try AuthorizationRecord.fetchCount(db), try ConnectionRecord.fetchCount(db)) }
    }

    /// Proves the database answers.
    func ping() throws {
        _ = try reader.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
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
    var flow: String
    var receivedAt: Date
}
