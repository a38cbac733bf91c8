import Foundation
import GRDB
import Testing

@testable import Onboarding

/// What the SQLite schema itself promises for admins: it refuses names and roles the code cannot hold, accepts every
/// audit action the code writes, and migration v5 keeps the audit log.
@Suite("SQLite admin schema")
struct AdminSchemaTests {
    static func insert(name: String, role: String) -> String {
        "INSERT INTO adminUser (name, role, passwordHash, createdAt) VALUES ('\(name)', '\(role)', '$scrypt$x', '2026-01-01')"
    }

    @Test(arguments: [
        insert(name: "root", role: "admin"), insert(name: "Root", role: "owner"), insert(name: "", role: "owner"),
        insert(name: "a b", role: "owner"), insert(name: "a/b", role: "owner"), insert(name: String(repeating: "a", count: 65), role: "owner"),
        insert(name: "taken", role: "viewer"),
    ])
    func theSchemaRefusesBadNamesRolesAndDuplicates(statement: String) async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        try await queue.write { db in try db.execute(sql: Self.insert(name: "taken", role: "owner")) }
        #expect(throws: DatabaseError.self) { try queue.write { db in try db.execute(sql: statement) } }
    }

    @Test func theSchemaAcceptsEveryValidNameAndRole() async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        for (index, role) in AdminRole.allCases.enumerated() {
            let name = ["a", "ops.team-1_x", String(repeating: "z", count: 64)][index]
            try await queue.write { db in try db.execute(sql: Self.insert(name: name, role: role.rawValue)) }
        }
    }

    @Test func theSchemaAcceptsEveryAuditActionTheCodeWrites() async throws {
        let store = try AppDatabase.inMemory()
        for action in AuditAction.allCases {
            try await store.appendAudit(AuditEventRecord(occurredAt: Date(), actor: .admin("amy"), action: action))
        }
        #expect(try await store.auditEvents().map(\.action) == AuditAction.allCases)
    }

    @Test func migrationV5KeepsTheAuditLog() async throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: "v4: revocation claim")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO auditEvent (occurredAt, actor, action, merchantId, detail)
                    VALUES ('2026-01-01 00:01:00.000', 'merchant', 'connection.connected', 'MLA', 'flow=code'),
                           ('2026-01-02 00:01:00.000', 'cli', 'keys.rotated', NULL, 'k2');
                    """
            )
        }
        let store = try AppDatabase(queue)
        let audit = try await store.auditEvents()
        #expect(audit.map(\.action) == [.connectionConnected, .keysRotated] && audit.map(\.id) == [1, 2])
        try await store.appendAudit(AuditEventRecord(occurredAt: Date(), actor: .admin("amy"), action: .adminSignedIn))
        #expect(try await store.auditEvents().last?.id == 3)
        let indexes = try await queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'") }
        for index in ["index_auditEvent_on_occurredAt", "index_auditEvent_on_merchantId", "index_adminSession_on_adminUserId"] {
            #expect(indexes.contains(index))
        }
    }
}
