import Foundation
import GRDB

extension AppDatabase {
    func connections(matching query: ConnectionQuery) async throws(StorageError) -> ConnectionPage {
        try await read { db in
            let fewMatches = try query.search.map { try Self.searchMatchesFew($0, db) } ?? false
            let (sql, statementArguments, limit) = Self.connectionPageStatement(query, fewMatches: fewMatches)
            let rows = try Row.fetchAll(db, sql: sql, arguments: statementArguments)
            let page = try rows.prefix(limit).map { try ConnectionRecord(row: $0) }
            let total = query.countsMatches ? try Self.total(query, fewMatches: fewMatches, db) : nil
            guard rows.count > limit, let last = rows.prefix(limit).last, let id = page.last?.id else {
                return ConnectionPage(connections: page, next: nil, total: total)
            }
            let sortKey: DatabaseValue = last["sortKey"]
            return ConnectionPage(
                connections: page,
                next: ConnectionCursor(key: String.fromDatabaseValue(sortKey) ?? "", id: id),
                total: total
            )
        }
    }

    /// How many connections `query` matches, read in the page's transaction: counted on the environment-and-status
    /// indexes, or over a rare search's matches; a search matching thousands (`fewMatches` false) is not counted row by
    /// row: its merchant-id and reference matches together reached `fewSearchMatches`, so at least half that many match.
    static func total(_ query: ConnectionQuery, fewMatches: Bool, _ db: Database) throws -> ConnectionTotal {
        if let search = query.search, !search.isEmpty, !fewMatches {
            return ConnectionTotal(count: fewSearchMatches / 2, isLowerBound: true)
        }
        let filter = connectionFilter(query, fewMatches: fewMatches)
        let count =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM \(filter.source) WHERE \(filter.conditions.joined(separator: " AND "))",
                arguments: StatementArguments(filter.arguments)
            ) ?? 0
        return ConnectionTotal(count: count, isLowerBound: false)
    }

    /// How many rows a search may match for its page to be read from the matches themselves, sorted.
    static let fewSearchMatches = 2000

    /// Whether a search prefix matches fewer than `fewSearchMatches` merchant ids and references together, counted
    /// on their own indexes (at most that many entries each are read).
    static func searchMatchesFew(_ search: String, _ db: Database) throws -> Bool {
        guard !search.isEmpty else { return false }
        let matches = try Int.fetchOne(
            db,
            sql: """
                SELECT (SELECT COUNT(*) FROM (
                        SELECT 1 FROM "connection" WHERE "merchantId" >= :merchant AND "merchantId" < :merchantEnd LIMIT :cap))
                    + (SELECT COUNT(*) FROM (
                        SELECT 1 FROM "connection" WHERE \(referenceRange) LIMIT :cap))
                """,
            arguments: StatementArguments(searchArguments(search).merging(["cap": fewSearchMatches]) { $1 })
        )
        return (matches ?? 0) < fewSearchMatches
    }

    /// The references a search matches, in any case of ASCII letters, on `connection_by_reference_nocase`.
    static let referenceRange = #""partnerReference" COLLATE NOCASE >= :search AND "partnerReference" COLLATE NOCASE < :searchEnd"#

    /// A search's bounds: the merchant-id range on the search in capitals (Square's merchant ids are capitals and
    /// digits, so `ml1` finds `ML1…`), the reference range on the search as typed, compared without case.
    static func searchArguments(_ search: String) -> [String: (any DatabaseValueConvertible)?] {
        [
            "merchant": search.uppercased(), "merchantEnd": search.uppercased() + "\u{10FFFF}",
            "search": search, "searchEnd": search + "\u{10FFFF}",
        ]
    }

    /// The keyset statement for one page (one row more than the page, to know whether another follows).
    ///
    /// A search that matches few rows (`fewMatches`) reads them through the merchant-id and reference indexes and sorts
    /// them; one that matches many walks the list's order index and stops after a page, since matches are then dense.
    /// Left to itself SQLite walks the order index for both, which took a second for a rare prefix at 100,000 rows.
    static func connectionPageStatement(
        _ query: ConnectionQuery,
        fewMatches: Bool = false
    ) -> (sql: String, arguments: StatementArguments, limit: Int) {
        let (key, ascending) =
            switch query.sort {
            case .recent: ("\"connectedAt\"", false)
            case .expiry: ("COALESCE(\"expiresAt\", '9999-12-31')", true)
            case .merchant: ("\"merchantId\"", true)
            }
        let filter = connectionFilter(query, fewMatches: fewMatches)
        var (conditions, arguments) = (filter.conditions, filter.arguments)
        if let after = query.after {
            let beyond = ascending ? ">" : "<"
            conditions.append("(\(key) \(beyond) :afterKey OR (\(key) = :afterKey AND \"id\" \(beyond) :afterId))")
            arguments["afterKey"] = after.key
            arguments["afterId"] = after.id
        }
        let direction = ascending ? "ASC" : "DESC"
        let limit = max(1, min(query.limit, 500))
        let sql = """
            SELECT "connection".*, \(key) AS sortKey FROM \(filter.source)
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(key) \(direction), "id" \(direction)
            LIMIT \(limit + 1)
            """
        return (sql, StatementArguments(arguments), limit)
    }

    /// Which rows a query matches, cursor aside: the table or a rare search's matches, and the conditions on them.
    static func connectionFilter(
        _ query: ConnectionQuery,
        fewMatches: Bool
    ) -> (source: String, conditions: [String], arguments: [String: (any DatabaseValueConvertible)?]) {
        var conditions = ["\"environment\" = :environment"]
        var arguments: [String: (any DatabaseValueConvertible)?] = ["environment": query.environment]
        if let status = query.status {
            conditions.append("\"status\" = :status")
            arguments["status"] = status.rawValue
        }
        if let partnerId = query.partnerId {
            conditions.append("\"partnerId\" = :partnerId")
            arguments["partnerId"] = partnerId
        }
        if let reference = query.reference {
            conditions.append("\"partnerReference\" = :reference")
            arguments["reference"] = reference
        }
        var source = "\"connection\""
        if let search = query.search, !search.isEmpty {
            // A range on the text, not LIKE: an index serves it and nothing in the search acts as a wildcard.
            let merchantRange = "\"merchantId\" >= :merchant AND \"merchantId\" < :merchantEnd"
            let referenceRange = Self.referenceRange
            if fewMatches {
                // CROSS JOIN keeps the matches as the outer loop, so SQLite cannot choose to walk the order index instead.
                source = """
                    (SELECT "id" AS "matchId" FROM "connection" WHERE \(merchantRange)
                     UNION SELECT "id" FROM "connection" WHERE \(referenceRange))
                    CROSS JOIN "connection" ON "connection"."id" = "matchId"
                    """
            } else {
                conditions.append("((\(merchantRange)) OR (\(referenceRange)))")
            }
            arguments.merge(Self.searchArguments(search)) { $1 }
        }
        return (source, conditions, arguments)
    }

    func connectionOverview(
        environment: String,
        now: Date,
        expiringBefore: Date,
        failuresSince: Date
    ) async throws(StorageError)
        -> ConnectionOverview
    {
        // The expiry window is read on the expiry index (`connection_by_expiry`, hence the COALESCE): through the
        // status index instead it looked up every active row, 0.4 s at 100,000 connections.
        try await read { db in
            var counts: [ConnectionStatus: Int] = [:]
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT status, COUNT(*) AS count FROM connection WHERE environment = ? GROUP BY status",
                arguments: [environment]
            )
            for row in rows {
                if let status = ConnectionStatus(rawValue: row["status"]) { counts[status] = row["count"] }
            }
            let expiring =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM connection
                        WHERE environment = ? AND COALESCE(expiresAt, '9999-12-31') >= ? AND COALESCE(expiresAt, '9999-12-31') < ?
                            AND status = 'active'
                        """,
                    arguments: [environment, now, expiringBefore]
                ) ?? 0
            let failures =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM auditEvent WHERE action = ? AND occurredAt >= ?",
                    arguments: [AuditAction.tokenRefreshFailed.rawValue, failuresSince]
                ) ?? 0
            return ConnectionOverview(countsByStatus: counts, expiringSoon: expiring, refreshFailures: failures)
        }
    }

    func auditEvents(matching query: AuditQuery) async throws(StorageError) -> [AuditEventRecord] {
        try await read { db in try Self.auditRequest(query).fetchAll(db) }
    }

    /// One page of the audit log as a request (its plan is checked in tests).
    static func auditRequest(_ query: AuditQuery) -> QueryInterfaceRequest<AuditEventRecord> {
        var request = AuditEventRecord.all()
        if let merchantId = query.merchantId { request = request.filter(AuditEventRecord.Columns.merchantId == merchantId) }
        if let actor = query.actor { request = request.filter(Column("actor") == actor.description) }
        if let action = query.action { request = request.filter(AuditEventRecord.Columns.action == action.rawValue) }
        if query.from == nil, query.until == nil {
            // Newest first by id: the action and actor indexes end in the id, so a filtered page is read in order.
            request = request.order(AuditEventRecord.Columns.id.desc)
            if let beforeId = query.beforeId { request = request.filter(AuditEventRecord.Columns.id < beforeId) }
        } else {
            // A time range is read newest first by time on the time index (which ends in the id), so a wide range
            // costs a page, not a sort of every event in it; imported events carry their own, older times.
            if let from = query.from { request = request.filter(Column("occurredAt") >= from) }
            if let until = query.until { request = request.filter(Column("occurredAt") < until) }
            if let beforeId = query.beforeId {
                let time: SQL = #"(SELECT "occurredAt" FROM "auditEvent" WHERE "id" = \#(beforeId))"#
                // The plain bound lets SQLite range over the index; the row value breaks ties at that time by id.
                request = request.filter(literal: #""occurredAt" <= "# + time)
                request = request.filter(literal: #"("occurredAt", "id") < ("# + time + #", \#(beforeId))"#)
            }
            request = request.order(Column("occurredAt").desc, AuditEventRecord.Columns.id.desc)
        }
        return request.limit(max(1, min(query.limit, 500)))
    }
}
