import Foundation
import GRDB

extension AppDatabase {
    func addAdmin(_ admin: AdminUserRecord, audit: AuditEventRecord) async throws(StorageError) -> AdminUserRecord? {
        try await write { db in
            guard try Self.admin(db, named: admin.name) == nil else { return nil }
            var admin = admin
            try admin.insert(db)
            var audit = audit
            try audit.insert(db)
            return admin
        }
    }

    func admin(named name: String) async throws(StorageError) -> AdminUserRecord? {
        try await read { db in try Self.admin(db, named: name) }
    }

    func allAdmins() async throws(StorageError) -> [AdminUserRecord] {
        try await read { db in try AdminUserRecord.order(AdminUserRecord.Columns.name).fetchAll(db) }
    }

    func changeAdminPassword(
        named name: String,
        passwordHash: String,
        oneTime: Bool,
        keepingSession: String?,
        audit: AuditEventRecord
    ) async throws(StorageError) -> AdminChange {
        try await write { db in
            guard var admin = try Self.admin(db, named: name), let id = admin.id else { return .notFound }
            admin.passwordHash = passwordHash
            admin.passwordChangeRequired = oneTime
            try admin.update(db)
            var sessions = AdminSessionRecord.filter(AdminSessionRecord.Columns.adminUserId == id)
            if let keepingSession { sessions = sessions.filter(AdminSessionRecord.Columns.sessionHash != keepingSession) }
            let ended = try sessions.deleteAll(db)
            var audit = audit
            try audit.insert(db)
            return .changed(admin, endedSessions: ended)
        }
    }

    func changeAdminRole(named name: String, to role: AdminRole, audit: AuditEventRecord) async throws(StorageError) -> AdminChange {
        try await write { db in
            guard var admin = try Self.admin(db, named: name) else { return .notFound }
            if admin.role == .owner, role != .owner, try Self.ownerCount(db) == 1 { return .lastOwner }
            admin.role = role
            try admin.update(db)
            var audit = audit
            try audit.insert(db)
            return .changed(admin, endedSessions: 0)
        }
    }

    func removeAdmin(named name: String, audit: AuditEventRecord) async throws(StorageError) -> AdminChange {
        try await write { db in
            guard let admin = try Self.admin(db, named: name), let id = admin.id else { return .notFound }
            if admin.role == .owner, try Self.ownerCount(db) == 1 { return .lastOwner }
            let ended = try Self.deleteSessions(db, adminUserId: id)
            try admin.delete(db)
            var audit = audit
            try audit.insert(db)
            return .changed(admin, endedSessions: ended)
        }
    }

    func openAdminSession(
        _ session: AdminSessionRecord,
        replacing previousHash: String?,
        audit: AuditEventRecord
    ) async throws(StorageError) -> Bool {
        try await write { db in
            guard var admin = try AdminUserRecord.fetchOne(db, key: session.adminUserId) else { return false }
            let now = session.createdAt
            if let previousHash { try AdminSessionRecord.deleteOne(db, key: previousHash) }
            // Sessions end by time; the rows of ended ones go whenever anyone signs in.
            try AdminSessionRecord
                .filter(AdminSessionRecord.Columns.idleExpiresAt <= now || AdminSessionRecord.Columns.expiresAt <= now)
                .deleteAll(db)
            try session.insert(db)
            admin.lastSignInAt = now
            try admin.update(db)
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    func adminSession(hash: String, now: Date, idleUntil: Date) async throws(StorageError) -> AdminSession? {
        try await write { db in
            guard var session = try AdminSessionRecord.fetchOne(db, key: hash) else { return nil }
            guard session.isLive(at: now), let admin = try AdminUserRecord.fetchOne(db, key: session.adminUserId) else {
                try session.delete(db)
                return nil
            }
            session.lastSeenAt = now
            session.idleExpiresAt = min(idleUntil, session.expiresAt)
            try session.update(db)
            return AdminSession(session: session, admin: admin)
        }
    }

    func endAdminSession(hash: String, audit: AuditEventRecord) async throws(StorageError) -> Bool {
        try await write { db in
            guard try AdminSessionRecord.deleteOne(db, key: hash) else { return false }
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    static func admin(_ db: Database, named name: String) throws -> AdminUserRecord? {
        try AdminUserRecord.filter(AdminUserRecord.Columns.name == name).fetchOne(db)
    }

    static func ownerCount(_ db: Database) throws -> Int {
        try AdminUserRecord.filter(AdminUserRecord.Columns.role == AdminRole.owner).fetchCount(db)
    }

    /// Deletes every session of one admin; returns how many there were.
    static func deleteSessions(_ db: Database, adminUserId: Int64) throws -> Int {
        try AdminSessionRecord.filter(AdminSessionRecord.Columns.adminUserId == adminUserId).deleteAll(db)
    }
}
