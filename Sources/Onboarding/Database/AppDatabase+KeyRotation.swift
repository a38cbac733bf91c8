import GRDB

extension AppDatabase {
    /// One stored sealed value, the row that holds it, and the context it was sealed with.
    struct SealedValue: Sendable {
        /// The row's primary key, for the conditional UPDATE.
        var rowKey: DatabaseValue
        var sealed: String
        var context: String

        /// The row's primary key as reports print it.
        var rowID: String { rowKey.text }
    }

    /// A value read by `sealedValuesNeedingResealing` and what should replace it.
    struct Resealing: Sendable {
        var original: SealedValue
        var resealed: String
    }

    /// How many values of one column sit under one key id.
    struct KeyIDCount: Sendable, Equatable {
        /// nil when the stored text is not a sealed box at all.
        var keyID: String?
        var count: Int
    }

    /// How many non-NULL values of `column` are sealed under each key id, without reading any plaintext.
    func sealedValueCounts(in column: SealedColumn) throws -> [KeyIDCount] {
        let value = column.column.quotedDatabaseIdentifier
        let sql = """
            SELECT CASE WHEN substr(\(value), 1, 4) = 'sb1.' AND instr(substr(\(value), 5), '.') > 1
                        THEN substr(\(value), 5, instr(substr(\(value), 5), '.') - 1) END AS keyID,
                   COUNT(*) AS count
            FROM \(column.table.quotedDatabaseIdentifier)
            WHERE \(value) IS NOT NULL
            GROUP BY keyID
            ORDER BY keyID
            """
        return try reader.read { db in
            try Row.fetchAll(db, sql: sql).map { KeyIDCount(keyID: $0["keyID"], count: $0["count"]) }
        }
    }

    /// Up to `limit` values of `column` not sealed under `activeKeyID`, in primary-key order after `cursor`.
    func sealedValuesNeedingResealing(
        in column: SealedColumn,
        activeKeyID: String,
        after cursor: DatabaseValue?,
        limit: Int
    ) throws -> [SealedValue] {
        let value = column.column.quotedDatabaseIdentifier
        let key = column.primaryKey.quotedDatabaseIdentifier
        let contextColumns = column.contextColumns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        var arguments: [String: (any DatabaseValueConvertible)?] = ["prefix": "sb1.\(activeKeyID)."]
        var sql = """
            SELECT \(key) AS rowKey, \(value) AS sealed, \(contextColumns)
            FROM \(column.table.quotedDatabaseIdentifier)
            WHERE \(value) IS NOT NULL AND substr(\(value), 1, length(:prefix)) <> :prefix
            """
        if let cursor {
            sql += " AND \(key) > :cursor"
            arguments["cursor"] = cursor
        }
        sql += " ORDER BY \(key) LIMIT \(max(limit, 1))"
        return try reader.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                SealedValue(rowKey: row["rowKey"], sealed: row["sealed"], context: column.context(row))
            }
        }
    }

    /// Writes each re-sealed value in one transaction, only where the row still holds the value that was read.
    ///
    /// A row a refresh, reconnect or disconnect changed since the read is left as it is and counted as skipped.
    func replaceSealedValues(in column: SealedColumn, _ resealings: [Resealing]) throws -> (resealed: Int, skipped: Int) {
        let value = column.column.quotedDatabaseIdentifier
        let sql = """
            UPDATE \(column.table.quotedDatabaseIdentifier) SET \(value) = ?
            WHERE \(column.primaryKey.quotedDatabaseIdentifier) = ? AND \(value) = ?
            """
        return try writer.write { db in
            var resealed = 0
            for resealing in resealings {
                try db.execute(sql: sql, arguments: [resealing.resealed, resealing.original.rowKey, resealing.original.sealed])
                resealed += db.changesCount
            }
            return (resealed, resealings.count - resealed)
        }
    }
}
