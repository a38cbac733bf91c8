import GRDB

/// The schema's history; a shipped migration is never edited, only followed by a new one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: authorization, connection, merchantSession, auditEvent") { db in
            try db.create(table: "authorization") { t in
                t.primaryKey("stateHash", .text)
                t.column("sealedCodeVerifier", .text).notNull()
                t.column("scopes", .text).notNull()
                t.column("flow", .text).notNull()
                t.column("partnerLinkId", .text)
                t.column("returnUrl", .text)
                t.column("browserBindingHash", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("expiresAt", .datetime).notNull().indexed()
                t.column("consumedAt", .datetime)
                t.column("outcome", .text)
                t.column("merchantId", .text)
            }
            try db.create(table: "connection") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("environment", .text).notNull()
                t.column("merchantId", .text).notNull()
                t.column("sealedAccessToken", .text)
                t.column("sealedRefreshToken", .text)
                t.column("tokenType", .text).notNull()
                t.column("expiresAt", .datetime)
                t.column("refreshTokenExpiresAt", .datetime)
                t.column("scopes", .text).notNull()
                t.column("shortLived", .boolean).notNull().defaults(to: false)
                t.column("flow", .text).notNull()
                t.column("status", .text).notNull().indexed()
                t.column("partnerId", .text)
                t.column("partnerReference", .text)
                t.column("connectedAt", .datetime).notNull()
                t.column("lastRefreshedAt", .datetime)
                t.column("lastCheckedAt", .datetime)
                t.column("revokedAt", .datetime)
                t.column("revokedBy", .text)
                t.column("refreshLeaseUntil", .datetime)
                t.column("refreshFailureCount", .integer).notNull().defaults(to: 0)
                t.column("lastError", .text)
                t.column("updatedAt", .datetime).notNull()
                t.uniqueKey(["environment", "merchantId"])
            }
            try db.create(table: "merchantSession") { t in
                t.primaryKey("sessionHash", .text)
                t.column("connectionId", .integer).notNull().indexed()
                    .references("connection", onDelete: .cascade)
                t.column("csrfToken", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("expiresAt", .datetime).notNull()
            }
            try db.create(table: "auditEvent") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("occurredAt", .datetime).notNull().indexed()
                t.column("actor", .text).notNull()
                t.column("action", .text).notNull()
                t.column("merchantId", .text).indexed()
                t.column("detail", .text).notNull()
            }
        }
        migrator.registerMigration("v2: refresh lease owner and backoff, squareEvent") { db in
            try db.alter(table: "connection") { t in
                t.add(column: "refreshLeaseOwner", .text)
                t.add(column: "nextRefreshAt", .datetime)
            }
            try db.create(table: "squareEvent") { t in
                t.primaryKey("eventId", .text)
                t.column("type", .text).notNull()
                t.column("merchantId", .text)
                t.column("receivedAt", .datetime).notNull().indexed()
            }
        }
        return migrator
    }
}
