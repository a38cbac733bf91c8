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
    let context: @Sendable ([String: String]) -> String

    /// `table.column`, as reports name it.
    var name: String { "\(table).\(column)" }

    /// Every sealed column of the schema; a new sealed column needs one entry here, with the context `TokenVault` uses.
    static let all: [SealedColumn] = [
        SealedColumn(table: "connection", column: "sealedAccessToken", primaryKey: "id", contextColumns: ["environment", "merchantId"]) {
            TokenVault.Context.accessToken(environment: $0["environment", default: ""], merchantId: $0["merchantId", default: ""])
        },
        SealedColumn(table: "connection", column: "sealedRefreshToken", primaryKey: "id", contextColumns: ["environment", "merchantId"]) {
            TokenVault.Context.refreshToken(environment: $0["environment", default: ""], merchantId: $0["merchantId", default: ""])
        },
        SealedColumn(table: "authorization", column: "sealedCodeVerifier", primaryKey: "stateHash", contextColumns: ["stateHash"]) {
            TokenVault.Context.codeVerifier(stateHash: $0["stateHash", default: ""])
        },
        SealedColumn(table: "adminUser", column: "totpSecretSealed", primaryKey: "id", contextColumns: ["name"]) {
            TokenVault.Context.adminTOTPSecret(adminName: $0["name", default: ""])
        },
        SealedColumn(table: "partner", column: "webhookSecretSealed", primaryKey: "id", contextColumns: ["id"]) {
            TokenVault.Context.partnerSecret(partnerId: $0["id", default: ""])
        },
    ]
}
