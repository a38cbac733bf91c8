import Foundation
import GRDB

/// The SQLite store: one WAL-mode file through GRDB, migrated on open, every access asynchronous and one transaction.
final class AppDatabase: OnboardingStore {
    private let writer: any DatabaseWriter
    private let groupCommit: GroupCommit

    /// Wraps a writer and runs every pending migration before anything else touches it.
    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        groupCommit = GroupCommit(writer: writer)
        let purgesKeptTokens = try !writer.read(Migrations.migrator.appliedIdentifiers).contains(Migrations.v11Name)
        try Migrations.migrator.migrate(writer)
        if purgesKeptTokens {
            // v11 deleted kept access tokens: copy the overwritten pages into the file now, not at some later checkpoint.
            _ = try? writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        }
    }

    /// An empty in-memory database, for the store's contract tests.
    static func inMemory() throws -> AppDatabase {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        return try AppDatabase(DatabaseQueue(configuration: configuration))
    }

    /// Opens (or creates) the WAL-mode database file, readable only by this user; blocking, so run it off the async pool.
    ///
    /// The folder is made (or tightened to) 0700 and the file 0600 before SQLite opens it: SQLite creates the `-wal`
    /// and `-shm` files with the main file's mode, so none of the three is ever readable by others.
    /// `automaticCheckpointPages` is SQLite's `wal_autocheckpoint` for the writer (its default, 1,000, unless a
    /// `WALCheckpointer` runs beside it). The writer keeps its temporary files (savepoint journals) in memory.
    static func open(path: String, automaticCheckpointPages: Int = 1000) throws -> AppDatabase {
        try restrictFileModes(databasePath: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // Readers get it too; it only acts when a connection commits, which only the writer does.
            if automaticCheckpointPages != 1000 { try db.execute(sql: "PRAGMA wal_autocheckpoint = \(automaticCheckpointPages)") }
            // Each grouped write is a savepoint, whose journal of the pages it changes SQLite spills to a temporary
            // file past 64 KiB: two system calls a page on the one writer everything waits for. In memory it is a copy.
            // secure_delete: deleted rows' bytes are overwritten with zeros, so no freed page keeps what a table held.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA temp_store = MEMORY; PRAGMA secure_delete = ON") }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        return try AppDatabase(pool)
    }

    /// Creates the data folder 0700 and the database file 0600, and tightens any of the files that are looser.
    static func restrictFileModes(databasePath path: String) throws {
        let files = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
            if !files.fileExists(atPath: path) {
                guard files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw StartupError.insecureDataDirectory(directory: directory, reason: "cannot create \(path)")
                }
            }
            for file in [path, path + "-wal", path + "-shm"] where files.fileExists(atPath: file) {
                try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            }
        } catch let error as StartupError {
            throw error
        } catch {
            throw StartupError.insecureDataDirectory(directory: directory, reason: "\(error.localizedDescription)")
        }
    }

    /// Runs `updates` in one write transaction on GRDB's writer queue, never on the caller's thread.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        do {
            return try await writer.write(updates)
        } catch {
            throw StorageError(error)
        }
    }

    /// Runs `updates` in a savepoint of the next group commit (`GroupCommit`): for the small writes every connect makes.
    func groupedWrite<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        try await groupCommit.write(updates)
    }

    /// Runs `value` in one read transaction on one of GRDB's reader queues.
    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        do {
            return try await writer.read(value)
        } catch {
            throw StorageError(error)
        }
    }

    /// Closes every connection to the file; any later access fails with `StorageError.unavailable`.
    func close() throws {
        try writer.close()
    }

    // MARK: Authorizations

    func beginAuthorization(_ authorization: AuthorizationRecord, audit: AuditEventRecord) async throws(StorageError) {
        try await groupedWrite { db in
            try authorization.insert(db)
            var audit = audit
            try audit.insert(db)
        }
    }

    func consumeAuthorization(stateHash: String, browserBindingHash: String?, now: Date) async throws(StorageError) -> StateCheck {
        try await groupedWrite { db in
            let find = try db.cachedStatement(sql: #"SELECT * FROM "authorization" WHERE stateHash = ?"#)
            guard var authorization = try AuthorizationRecord.fetchOne(find, arguments: [stateHash]) else { return .unknown }
            guard authorization.consumedAt == nil else { return .reused }
            guard authorization.expiresAt > now else { return .expired }
            guard let browserBindingHash, browserBindingHash == authorization.browserBindingHash else { return .otherBrowser }
            authorization.consumedAt = now
            authorization.outcome = .consumed
            try db.cachedStatement(sql: #"UPDATE "authorization" SET consumedAt = ?, outcome = ? WHERE stateHash = ?"#)
                .execute(arguments: [StorageTimestamp(now), AuthorizationOutcome.consumed, stateHash])
            return .accepted(authorization)
        }
    }

    func closeAuthorization(
        stateHash: String,
        outcome: AuthorizationOutcome,
        link: LinkCompletion?,
        audit: AuditEventRecord
    ) async throws(StorageError) {
        try await write { db in
            if var authorization = try AuthorizationRecord.fetchOne(db, key: stateHash) {
                authorization.outcome = outcome
                try authorization.update(db)
                if let link, let linkId = authorization.partnerLinkId {
                    try Self.completeLink(db, id: linkId, at: audit.occurredAt, merchantId: nil, result: link.result, error: link.error)
                }
            }
            var audit = audit
            try audit.insert(db)
        }
    }

    func authorization(stateHash: String) async throws(StorageError) -> AuthorizationRecord? {
        try await read { db in try AuthorizationRecord.fetchOne(db, key: stateHash) }
    }

    // MARK: Audit and health

    func appendAudit(_ event: AuditEventRecord) async throws(StorageError) {
        try await write { db in
            var event = event
            try event.insert(db)
        }
    }

    func auditEvents(merchantId: String?) async throws(StorageError) -> [AuditEventRecord] {
        try await read { db in
            var request = AuditEventRecord.order(AuditEventRecord.Columns.id)
            if let merchantId { request = request.filter(AuditEventRecord.Columns.merchantId == merchantId) }
            return try request.fetchAll(db)
        }
    }

    func counts() async throws(StorageError) -> StoreCounts {
        try await read { db in
            StoreCounts(authorizations: try AuthorizationRecord.fetchCount(db), connections: try ConnectionRecord.fetchCount(db))
        }
    }

    func checkWritable() async throws(StorageError) {
        do {
            // BEGIN IMMEDIATE fails on a read-only or locked-up file; rolling back leaves the file untouched.
            try await writer.writeWithoutTransaction { db in try db.inTransaction(.immediate) { .rollback } }
        } catch {
            throw StorageError(error)
        }
    }
}
