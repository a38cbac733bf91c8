import Foundation
import GRDB

extension AppDatabase {
    func connections(matching query: ConnectionQuery) async throws(StorageError) -> ConnectionPage {
        let (sql, statementArguments, limit) = Self.connectionPageStatement(query)
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: statementArguments)
            let page = try rows.prefix(limit).map { try ConnectionRecord(row: $0) }
            guard rows.count > limit, let last = rows.prefix(limit).last, let id = page.last?.id else {
                return ConnectionPage(connections: page, next: nil)
            }
            let sortKey: DatabaseValue = last["sortKey"]
            return ConnectionPage(connections: page, next: ConnectionCursor(key: String.fromDatabaseValue(sortKey) ?? "", id: id))
        }
    }

    /// The keyset statement for one page (one row more than the page, to know whether another follows).
    static func connectionPageStatement(_ query: ConnectionQuery) -> (sql: String, arguments: StatementArguments, limit: Int) {
        let (key, ascending) =
            switch query.sort {
            case .recent: ("\"connectedAt\"", false)
            case .expiry: ("COALESCE(\"expiresAt\", '9999-12-31')", true)
            case .merchant: ("\"merchantId\"", true)
            }
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
        if let search = query.search, !search.isEmpty {
            // A range on the text, not LIKE: an index serves it and nothing in the search acts as a wildcard.
            conditions.append(
                "((\"merchantId\" >= :search AND \"merchantId\" < :searchEnd) OR (\"partnerReference\" >= :search AND \"partnerReference\" < :searchEnd))"
            )
            arguments["search"] = search
            arguments["searchEnd"] = search + "\u{10FFFF}"
        }
        if let after = query.after {
            let beyond = ascending ? ">" : "<"
            conditions.append("(\(key) \(beyond) :afterKey OR (\(key) = :afterKey AND \"id\" \(beyond) :afterId))")
            arguments["afterKey"] = after.key
            arguments["afterId"] = after.id
        }
        let direction = ascending ? "ASC" : "DESC"
        let limit = max(1, min(query.limit, 500))
        let sql = """
            SELECT *, \(key) AS sortKey FROM "connection"
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(key) \(direction), "id" \(direction)
            LIMIT \(limit + 1)
            """
        return (sql, StatementArguments(arguments), limit)
    }

    func connectionOverview(
        environment: String,
        now: Date,
        expiringBefore: Date,
        failuresSince: Date
    ) async throws(StorageError)
        -> ConnectionOverview
    {
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
                        WHERE environment = ? AND status = 'active' AND expiresAt >= ? AND expiresAt < ?
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
        try await read { db in
            var request = AuditEventRecord.order(AuditEventRecord.Columns.id.desc)
            if let merchantId = query.merchantId { request = request.filter(AuditEventRecord.Columns.merchantId == merchantId) }
            if let actor = query.actor { request = request.filter(Column("actor") == actor.description) }
            if let action = query.action { request = request.filter(AuditEventRecord.Columns.action == action.rawValue) }
            if let beforeId = query.beforeId { request = request.filter(AuditEventRecord.Columns.id < beforeId) }
            return try request.limit(max(1, min(query.limit, 500))).fetchAll(db)
        }
    }
}
