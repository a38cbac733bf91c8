import Foundation
import GRDB
import Testing

@testable import Onboarding

/// What only the SQLite engine promises: the schema refuses values the Swift enums cannot hold, and v3 keeps old rows.
@Suite("SQLite store")
struct SQLiteStoreTests {
    static let v2 = "v2: refresh lease owner and backoff, squareEvent"

    @Test(arguments: [
        "UPDATE connection SET status = 'paused'",
        "UPDATE connection SET flow = 'implicit'",
        "UPDATE authorization SET outcome = 'maybe'",
        "UPDATE authorization SET flow = 'implicit'",
        "INSERT INTO auditEvent (occurredAt, actor, action, detail) VALUES ('2026-01-01', 'system', 'connection.exploded', '')",
        "INSERT INTO auditEvent (occurredAt, actor, action, detail) VALUES ('2026-01-01', 'hacker', 'keys.rotated', '')",
        "INSERT INTO auditEvent (occurredAt, actor, action, detail) VALUES ('2026-01-01', 'admin:', 'keys.rotated', '')",
    ])
    func theSchemaRefusesValuesOutsideTheEnums(statement: String) async throws {
        let queue = try DatabaseQueue()
        let store = try AppDatabase(queue)
        try await StoreContractTests.connect(store, "MLA")
        #expect(throws: DatabaseError.self) { try queue.write { db in try db.execute(sql: statement) } }
        #expect(try await store.connection(environment: "sandbox", merchantId: "MLA")?.status == .active)
    }

    @Test func theTypedSchemaMigrationKeepsEveryRowAndItsLinks() async throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: Self.v2)
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO authorization (stateHash, sealedCodeVerifier, scopes, flow, browserBindingHash, createdAt,
                        expiresAt, consumedAt, outcome, merchantId)
                    VALUES ('s1', 'sb1.k.v', 'PAYMENTS_READ', 'code', 'b', '2026-01-01 00:00:00.000',
                        '2026-01-01 00:10:00.000', '2026-01-01 00:01:00.000', 'connected', 'MLA');
                    INSERT INTO connection (environment, merchantId, sealedAccessToken, sealedRefreshToken, tokenType, scopes,
                        shortLived, flow, status, connectedAt, refreshFailureCount, updatedAt, lastError, refreshLeaseOwner)
                    VALUES ('sandbox', 'MLA', 'sb1.k.a', 'sb1.k.r', 'bearer', 'PAYMENTS_READ', 0, 'code', 'needs_reauth',
                        '2026-01-01 00:01:00.000', 2, '2026-01-02 00:00:00.000', 'refused', NULL);
                    INSERT INTO merchantSession (sessionHash, connectionId, csrfToken, createdAt, expiresAt)
                    VALUES ('h', 1, 'c', '2026-01-01 00:01:00.000', '2999-01-01 00:00:00.000');
                    INSERT INTO auditEvent (occurredAt, actor, action, merchantId, detail)
                    VALUES ('2026-01-01 00:01:00.000', 'merchant', 'connection.connected', 'MLA', 'flow=code');
                    """
            )
        }
        let store = try AppDatabase(queue)
        let connection = try #require(try await store.connection(environment: "sandbox", merchantId: "MLA"))
        #expect(connection.status == .needsReauth && connection.flow == .code && connection.refreshFailureCount == 2)
        #expect(connection.sealedAccessToken == "sb1.k.a" && connection.lastError == "refused")
        #expect(try await store.authorization(stateHash: "s1")?.outcome == .connected)
        #expect(try await store.merchantSession(hash: "h", now: Date())?.connection.id == connection.id)
        let audit = try await store.auditEvents()
        #expect(audit.map(\.action) == [.connectionConnected] && audit.first?.actor == .merchant)
        let indexes = try await queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'") }
        for index in ["index_connection_on_status", "index_auditEvent_on_merchantId", "index_authorization_on_expiresAt"] {
            #expect(indexes.contains(index))
        }
        let (orphans, integrity) = try await queue.read { db in
            (try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count, try String.fetchOne(db, sql: "PRAGMA integrity_check"))
        }
        #expect(orphans == 0 && integrity == "ok")
    }

    static let pageQueries: [ConnectionQuery] = [
        ConnectionQuery(environment: "sandbox", sort: .recent),
        ConnectionQuery(environment: "sandbox", status: .active, sort: .recent),
        ConnectionQuery(environment: "sandbox", sort: .expiry),
        ConnectionQuery(environment: "sandbox", sort: .merchant),
        ConnectionQuery(environment: "sandbox", sort: .recent, after: ConnectionCursor(key: "2026-01-01 00:00:00.000", id: 5)),
    ]

    /// Each dashboard order is served by an index: SQLite reads one page, never the whole table, and sorts nothing.
    @Test(arguments: pageQueries)
    func everyDashboardOrderIsReadFromAnIndex(query: ConnectionQuery) async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        let (sql, arguments, _) = AppDatabase.connectionPageStatement(query)
        let plan = try await queue.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
        #expect(plan.contains { $0.contains("USING INDEX") || $0.contains("USING COVERING INDEX") }, "\(plan)")
    }

    @Test func aPartnerReferenceIsFoundByPrefix() async throws {
        let queue = try DatabaseQueue()
        let store = try AppDatabase(queue)
        try await StoreContractTests.connect(store, "MLA")
        try await StoreContractTests.connect(store, "MLB")
        try await queue.write { db in try db.execute(sql: "UPDATE connection SET partnerReference = 'acct-42' WHERE merchantId = 'MLB'") }
        let found = try await store.connections(matching: ConnectionQuery(environment: "sandbox", search: "acct-4"))
        #expect(found.connections.map(\.merchantId) == ["MLB"])
    }

    @Test func theDueSetIsChosenByTheDatabaseThroughItsIndexes() async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        let (condition, arguments) = AppDatabase.dueForRefresh(settings: StoreContractTests.settings, now: Date(), merchantId: nil)
        let plan = try await queue.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM connection WHERE \(condition) LIMIT 500", arguments: arguments)
                .map { $0["detail"] as String }
        }
        #expect(plan.allSatisfy { !$0.hasPrefix("SCAN connection") || $0.contains("INDEX") }, "\(plan)")
        #expect(plan.contains { $0.contains("connection_by_issued") } && plan.contains { $0.contains("connection_by_expiresAt") }, "\(plan)")
    }

    /// The status sweep reads its due set as index ranges of the partial index (v10), in index order: no scan, no sort.
    @Test func theStatusDueSetIsReadFromItsPartialIndexInOrder() async throws {
        let queue = try DatabaseQueue()
        let store = try AppDatabase(queue)
        let cutoff = Date()
        let statements: [(String, StatementArguments)] = [
            (AppDatabase.neverCheckedSQL, [0, 1000]),
            (AppDatabase.checkedBeforeSQL(after: false), [cutoff, 1000]),
            (AppDatabase.checkedBeforeSQL(after: true), [cutoff, cutoff, 5, 1000]),
            (AppDatabase.countStatusDueSQL, [cutoff]),
        ]
        for (sql, arguments) in statements {
            let plan = try await queue.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.hasPrefix("SEARCH connection USING INDEX connection_status_check_due (lastCheckedAt") }, "\(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN connection") || $0.contains("TEMP B-TREE") }, "\(plan)")
        }
        // An active row whose access token is gone is not in the index, so not due.
        try await StoreContractTests.connect(store, "MLA", at: cutoff.addingTimeInterval(-2 * 86_400))
        #expect(try await store.countConnectionsDueForStatusCheck(checkedBefore: cutoff) == 1)
        try await queue.write { db in try db.execute(sql: "UPDATE connection SET sealedAccessToken = NULL") }
        #expect(try await store.countConnectionsDueForStatusCheck(checkedBefore: cutoff) == 0)
        #expect(try await store.connectionsDueForStatusCheck(checkedBefore: cutoff, after: nil, limit: 10).isEmpty)
    }
}
