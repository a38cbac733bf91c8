import GRDB

/// A database column that holds sealed values, and how each value's context is built from its row.
struct SealedColumn: Sendable {
    /// The table, e.g. `connection`.
    let table: String
    /// The column holding `sb1.<keyId>.<…>` text (or NULL).
    let column: String
    /// The column that names a row in reports and in the conditional UPDATE.
    let primaryKey: String
    /// The columns `context` reads.
    let contextColumns: [String]
    /// The context the value was sealed with, built from a row that holds `contextColumns`.
    let context: @Sendable (Row) -> String

    /// `table.column`, as reports name it.
    var name: String { "\(table).\(column)" }

    /// Every sealed column of the schema; a new sealed column needs one entry here, with the context `TokenVault` uses.
    static let all: [SealedColumn] = [
        SealedColumn(table: "connection", column: "sealedAccessToken", primaryKey: "id", contextColumns: ["environment", "merchantId"]) {
            TokenVault.Context.accessToken(environment: $0.text("environment"), merchantId: $0.text("merchantId"))
        },
        SealedColumn(table: "connection", column: "sealedRefreshToken", primaryKey: "id", contextColumns: ["environment", "merchantId"]) {
            TokenVault.Context.refreshToken(environment: $0.text("environment"), merchantId: $0.text("merchantId"))
        },
        SealedColumn(table: "authorization", column: "sealedCodeVerifier", primaryKey: "stateHash", contextColumns: ["stateHash"]) {
            TokenVault.Context.codeVerifier(stateHash: $0.text("stateHash"))
        },
    ]
}

extension Row {
    /// A column's value as text (integers in decimal); empty for NULL, so a context built from it simply fails to open.
    func text(_ column: String) -> String {
        (self[column] as DatabaseValue).text
    }
}

extension DatabaseValue {
    /// The value as text for contexts and reports: strings as they are, numbers in decimal.
    var text: String {
        switch storage {
        case .null: ""
        case .int64(let value): String(value)
        case .double(let value): String(value)
        case .string(let value): value
        case .blob(let data): "<\(data.count) bytes>"
        }
    }
}
