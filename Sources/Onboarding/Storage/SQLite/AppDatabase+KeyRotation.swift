import GRDB

extension AppDatabase {
    /// How many non-NULL values of `column` are sealed under each key id, without reading any plaintext.
    func sealedValueCounts(in column: SealedColumn) async throws(StorageError) -> [KeyIDCount] {
        let value = column.sqlColumn.quotedDatabaseIdentifier
        let sql = """
            SELECT CASE WHEN substr(\(value), 1, 4) = 'sb1.' AND instr(substr(\(value), 5), '.') > 1
                        THEN substr(\(value), 5, instr(substr(\(value), 5), '.') - 1) END AS keyID,
                   COUNT(*) AS count
            FROM \(column.sqlTable.quotedDatabaseIdentifier)
            WHERE \(value) IS NOT NULL
            GROUP BY keyID
            ORDER BY keyID
            """
        return try await read { db in
            try Row.fetchAll(db, sql: sql).map { KeyIDCount(keyID: $0["keyID"], count: $0["count"]) }
        }
    }

    /// Up to `limit` values of `column` not sealed under `activeKeyID`, in primary-key order after `cursor`.
    func sealedValuesNeedingResealing(
        in column: SealedColumn,
        activeKeyID: String,
        after cursor: RowKey?,
        limit: Int
    ) async throws(StorageError) -> [SealedValue] {
        let value = column.sqlColumn.quotedDatabaseIdentifier
        let key = column.sqlPrimaryKey.quotedDatabaseIdentifier
        // Each context column is read under the domain's name for it.
        let contextColumns = column.contextFields
            .map { "\(column.sqlColumn(for: $0).quotedDatabaseIdentifier) AS \($0.rawValue.quotedDatabaseIdentifier)" }
            .joined(separator: ", ")
        var arguments: [String: (any DatabaseValueConvertible)?] = ["prefix": "sb1.\(activeKeyID)."]
        var sql = """
            SELECT \(key) AS rowKey, \(value) AS sealed, \(contextColumns)
            FROM \(column.sqlTable.quotedDatabaseIdentifier)
            WHERE \(value) IS NOT NULL AND substr(\(value), 1, length(:prefix)) <> :prefix
            """
        if let cursor {
            sql += " AND \(key) > :cursor"
            arguments["cursor"] = cursor.databaseValue
        }
        sql += " ORDER BY \(key) LIMIT \(max(limit, 1))"
        let (query, statementArguments) = (sql, StatementArguments(arguments))
        return try await read { db in
            try Row.fetchAll(db, sql: query, arguments: statementArguments).map { row in
                SealedValue(
                    rowKey: RowKey(row["rowKey"] as DatabaseValue),
                    sealed: row["sealed"],
                    context: column.context(row.texts(column.contextFields))
                )
            }
        }
    }

    /// Writes each re-sealed value in one transaction, only where the row still holds the value that was read.
    ///
    /// A row a refresh, reconnect or disconnect changed since the read is left as it is and counted as skipped.
    func replaceSealedValues(in column: SealedColumn, _ resealings: [Resealing]) async throws(StorageError) -> (resealed: Int, skipped: Int) {
        let value = column.sqlColumn.quotedDatabaseIdentifier
        let sql = """
            UPDATE \(column.sqlTable.quotedDatabaseIdentifier) SET \(value) = ?
            WHERE \(column.sqlPrimaryKey.quotedDatabaseIdentifier) = ? AND \(value) = ?
            """
        return try await write { db in
            var resealed = 0
            for resealing in resealings {
                try db.execute(sql: sql, arguments: [resealing.resealed, resealing.original.rowKey.databaseValue, resealing.original.sealed])
                resealed += db.changesCount
            }
            return (resealed, resealings.count - resealed)
        }
    }
}

extension RowKey {
    init(_ value: DatabaseValue) {
        if case .int64(let number) = value.storage {
            self = .integer(number)
        } else {
            self = .text(String.fromDatabaseValue(value) ?? "")
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .integer(let value): value.databaseValue
        case .text(let value): value.databaseValue
        }
    }
}

extension Row {
    /// The context fields, read under their own names, as text (integers in decimal, NULL as empty).
    func texts(_ fields: [SealedColumn.ContextField]) -> [SealedColumn.ContextField: String] {
        Dictionary(
            uniqueKeysWithValues: fields.map { field in
                let value: DatabaseValue = self[field.rawValue]
                return switch value.storage {
                case .null: (field, "")
                case .int64(let number): (field, String(number))
                case .double(let number): (field, String(number))
                case .string(let text): (field, text)
                case .blob(let data): (field, "<\(data.count) bytes>")
                }
            }
        )
    }
}

extension SealedColumn {
    /// Where SQLite keeps these values: table, column, and the key that names a row.
    var sqlTable: String {
        switch self {
        case .connectionAccessToken, .connectionRefreshToken: "connection"
        case .authorizationCodeVerifier: "authorization"
        case .adminTOTPSecret: "adminUser"
        case .partnerWebhookSecret: "partner"
        }
    }

    var sqlColumn: String {
        switch self {
        case .connectionAccessToken: "sealedAccessToken"
        case .connectionRefreshToken: "sealedRefreshToken"
        case .authorizationCodeVerifier: "sealedCodeVerifier"
        case .adminTOTPSecret: "totpSecretSealed"
        case .partnerWebhookSecret: "webhookSecretSealed"
        }
    }

    var sqlPrimaryKey: String { self == .authorizationCodeVerifier ? "stateHash" : "id" }

    /// The column of this table that holds a context field.
    func sqlColumn(for field: ContextField) -> String {
        switch field {
        case .environment: "environment"
        case .merchantId: "merchantId"
        case .stateHash: "stateHash"
        case .adminName: "name"
        case .partnerId: "id"
        }
    }
}
