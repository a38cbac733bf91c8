import Foundation
import GRDB
import OnboardCrypto
import SquareOAuth
import Testing

@testable import Onboarding

/// How SQLite reads the dashboard's searches and overview: through indexes that keep them fast at 100,000 rows.
@Suite("SQLite dashboard plans")
struct SQLiteDashboardPlanTests {
    static func plan(_ queue: DatabaseQueue, _ sql: String, _ arguments: StatementArguments) async throws -> [String] {
        try await queue.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String } }
    }

    @Test(arguments: ConnectionQuery.Sort.allCases)
    func aRareSearchReadsItsMatchesThroughTheirIndexes(sort: ConnectionQuery.Sort) async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        let query = ConnectionQuery(environment: "sandbox", search: "MLQ7", sort: sort)
        let (sql, arguments, _) = AppDatabase.connectionPageStatement(query, fewMatches: true)
        let plan = try await Self.plan(queue, sql, arguments)
        #expect(plan.contains { $0.contains("connection_by_merchant") } && plan.contains { $0.contains("connection_by_reference") }, "\(plan)")
        #expect(plan.contains { $0.contains("INTEGER PRIMARY KEY") }, "each match is read by its id: \(plan)")
        #expect(!plan.contains { $0.contains("connection_by_recent") || $0.hasPrefix("SCAN connection") }, "\(plan)")
    }

    @Test func aPartnerReferenceIsFoundInAnyCaseOnItsCaseInsensitiveIndex() async throws {
        let queue = try DatabaseQueue()
        let store = try AppDatabase(queue)
        try await Self.importConnections(store, count: 30)
        try await queue.write { db in try db.execute(sql: "UPDATE connection SET partnerReference = 'Acct-' || id") }
        let expected = try await queue.read { db in
            try Set(String.fetchAll(db, sql: "SELECT merchantId FROM connection WHERE partnerReference LIKE 'Acct-1%'"))
        }
        #expect(expected.count == 11)
        for typed in ["Acct-1", "acct-1", "ACCT-1"] {
            let found = try await StoreContractTests.allPages(store, ConnectionQuery(environment: "sandbox", search: typed, limit: 4))
            #expect(Set(found.map(\.merchantId)) == expected, "\(typed)")
            for fewMatches in [true, false] {
                let (sql, arguments, _) = AppDatabase.connectionPageStatement(
                    ConnectionQuery(environment: "sandbox", search: typed),
                    fewMatches: fewMatches
                )
                let rows = try await queue.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments) }
                #expect(Set(rows.map { $0["merchantId"] as String }) == expected, "\(typed), few: \(fewMatches)")
            }
        }
        let (sql, arguments, _) = AppDatabase.connectionPageStatement(ConnectionQuery(environment: "sandbox", search: "acct"), fewMatches: true)
        #expect(try await Self.plan(queue, sql, arguments).contains { $0.contains("connection_by_reference_nocase") })
    }

    @Test(arguments: [nil, ConnectionStatus.needsReauth])
    func aListsTotalIsCountedOnACoveringIndex(status: ConnectionStatus?) async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        let filter = AppDatabase.connectionFilter(ConnectionQuery(environment: "sandbox", status: status), fewMatches: false)
        let sql = "SELECT COUNT(*) FROM \(filter.source) WHERE \(filter.conditions.joined(separator: " AND "))"
        let plan = try await Self.plan(queue, sql, StatementArguments(filter.arguments))
        #expect(plan.count == 1 && plan[0].contains("USING COVERING INDEX connection_by_"), "\(plan)")
    }

    @Test func aPageOfDaysInTheAuditLogIsReadInOrderOnTheTimeIndex() async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        let from = Date(timeIntervalSince1970: 1_700_000_000)
        for beforeId: Int64? in [nil, 1234] {
            let query = AuditQuery(from: from, until: from.addingTimeInterval(30 * 86_400), beforeId: beforeId)
            let plan = try await queue.read { db in
                let statement = try AppDatabase.auditRequest(query).makePreparedRequest(db).statement
                return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.sql, arguments: statement.arguments).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains("USING INDEX index_auditEvent_on_occurredAt (occurredAt>? AND occurredAt<?)") }, "\(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "no sort of the whole range: \(plan)")
        }
    }

    @Test func whetherASearchMatchesFewIsCountedOnTheIndexes() async throws {
        let queue = try DatabaseQueue()
        let store = try AppDatabase(queue)
        try await Self.importConnections(store, count: 30)
        try await queue.write { db in
            // 2,001 more rows whose reference starts with "bulk-": one over the limit.
            try db.execute(sql: "UPDATE connection SET partnerReference = 'bulk-' || id")
            for index in 0..<(AppDatabase.fewSearchMatches - 29) {
                try db.execute(
                    sql: """
                        INSERT INTO connection (environment, merchantId, tokenType, scopes, shortLived, flow, status, partnerReference,
                            connectedAt, refreshFailureCount, updatedAt)
                        VALUES ('sandbox', ?, 'bearer', '', 0, 'pkce', 'active', ?, '2026-01-01', 0, '2026-01-01')
                        """,
                    arguments: ["MLBULK\(index)", "bulk-x\(index)"]
                )
            }
        }
        let (many, few, none) = try await queue.read { db in
            (
                try AppDatabase.searchMatchesFew("bulk-", db), try AppDatabase.searchMatchesFew("bulk-x1", db),
                try AppDatabase.searchMatchesFew("nothing", db)
            )
        }
        #expect(!many && few && none)
    }

    /// The two ways of reading a search give the same pages, in every order, at every cursor.
    @Test(arguments: ConnectionQuery.Sort.allCases)
    func bothSearchPlansGiveTheSamePages(sort: ConnectionQuery.Sort) async throws {
        let queue = try DatabaseQueue()
        let store = try AppDatabase(queue)
        try await Self.importConnections(store, count: 60)
        for search in ["ML00", "ML003", "shop-1", "acct"] {
            var pages: [[[String]]] = []
            for fewMatches in [true, false] {
                var query = ConnectionQuery(environment: "sandbox", search: search, sort: sort, limit: 4)
                var seen: [[String]] = []
                for _ in 0..<40 {
                    let (sql, arguments, limit) = AppDatabase.connectionPageStatement(query, fewMatches: fewMatches)
                    let rows = try queue.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments) }
                    seen.append(rows.prefix(limit).map { $0["merchantId"] as String })
                    guard rows.count > limit, let last = rows.prefix(limit).last else { break }
                    query.after = ConnectionCursor(key: String.fromDatabaseValue(last["sortKey"]) ?? "", id: last["id"])
                }
                pages.append(seen)
            }
            #expect(pages[0] == pages[1], "search \(search)")
            #expect(!pages[0].joined().isEmpty, "search \(search) finds something")
        }
    }

    @Test func theOverviewCountsExpiringTokensOnTheExpiryIndex() async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        let plan = try await Self.plan(
            queue,
            """
            SELECT COUNT(*) FROM connection
            WHERE environment = ? AND COALESCE(expiresAt, '9999-12-31') >= ? AND COALESCE(expiresAt, '9999-12-31') < ?
                AND status = 'active'
            """,
            ["sandbox", Date(), Date()]
        )
        #expect(plan.contains { $0.contains("connection_by_expiry") }, "\(plan)")
    }

    /// `count` connections ML0000…, connected a minute apart, every other with a reference `shop-N` or `acct-N`.
    static func importConnections(_ store: AppDatabase, count: Int) async throws {
        let importer = ConnectionImporter(store: store, vault: TokenVault(keyRing: try KeyRing(keys: [("k1", .generate())])), environment: "sandbox")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var connections: [ImportedConnection] = []
        for index in 0..<count {
            let reference: String? = index % 2 == 0 ? nil : (index % 4 == 1 ? "shop-\(index)" : "acct-\(index)")
            let expiresAt = now.addingTimeInterval(Double((index * 7) % 30) * 86_400)
            let connectedAt = now.addingTimeInterval(Double(-index / 2) * 60)
            connections.append(
                ImportedConnection(
                    merchantId: "ML" + String(format: "%04d", index),
                    accessToken: Secret("EAAA\(index)"),
                    refreshToken: Secret("EQAA\(index)"),
                    expiresAt: expiresAt,
                    scopes: ["PAYMENTS_READ"],
                    flow: .pkce,
                    partnerReference: reference,
                    connectedAt: connectedAt
                )
            )
        }
        try await importer.importBatch(connections)
    }
}
