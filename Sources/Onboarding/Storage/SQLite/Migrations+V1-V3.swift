import GRDB

extension Migrations {
    static let v1Name = "v1: authorization, connection, merchantSession, auditEvent"
    static let v2Name = "v2: refresh lease owner and backoff, squareEvent"
    static let v3Name = "v3: typed status, flow, outcome, action and actor with CHECK constraints"

    /// Authorization, connection, merchantSession, auditEvent.
    static func v1AuthorizationsConnectionsSessionsAudit(_ db: Database) throws {
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

    /// Refresh lease owner and backoff, squareEvent.
    static func v2RefreshLeaseAndSquareEvents(_ db: Database) throws {
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

    /// Typed status, flow, outcome, action and actor with CHECK constraints.
    static func v3TypedColumnsChecked(_ db: Database) throws {
        // SQLite cannot add a CHECK to a table: each table is rebuilt, copied and renamed (foreign keys are
        // checked once at the end of the migration). The value lists are written out: never derive them from
        // enums, which grow in later migrations.
        try db.execute(
            sql: """
                CREATE TABLE "new_authorization" (
                    "stateHash" TEXT PRIMARY KEY NOT NULL,
                    "sealedCodeVerifier" TEXT NOT NULL,
                    "scopes" TEXT NOT NULL,
                    "flow" TEXT NOT NULL CHECK ("flow" IN ('pkce', 'code')),
                    "partnerLinkId" TEXT,
                    "returnUrl" TEXT,
                    "browserBindingHash" TEXT NOT NULL,
                    "createdAt" DATETIME NOT NULL,
                    "expiresAt" DATETIME NOT NULL,
                    "consumedAt" DATETIME,
                    "outcome" TEXT CHECK ("outcome" IN (
                        'consumed', 'connected', 'denied', 'square_error', 'missing_code', 'exchange_failed')),
                    "merchantId" TEXT
                );
                INSERT INTO "new_authorization" SELECT
                    stateHash, sealedCodeVerifier, scopes, flow, partnerLinkId, returnUrl, browserBindingHash,
                    createdAt, expiresAt, consumedAt, outcome, merchantId
                FROM "authorization";
                DROP TABLE "authorization";
                ALTER TABLE "new_authorization" RENAME TO "authorization";
                CREATE INDEX "index_authorization_on_expiresAt" ON "authorization"("expiresAt");

                CREATE TABLE "new_connection" (
                    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                    "environment" TEXT NOT NULL,
                    "merchantId" TEXT NOT NULL,
                    "sealedAccessToken" TEXT,
                    "sealedRefreshToken" TEXT,
                    "tokenType" TEXT NOT NULL,
                    "expiresAt" DATETIME,
                    "refreshTokenExpiresAt" DATETIME,
                    "scopes" TEXT NOT NULL,
                    "shortLived" BOOLEAN NOT NULL DEFAULT 0,
                    "flow" TEXT NOT NULL CHECK ("flow" IN ('pkce', 'code')),
                    "status" TEXT NOT NULL CHECK ("status" IN ('active', 'needs_reauth', 'revoked', 'expired')),
                    "partnerId" TEXT,
                    "partnerReference" TEXT,
                    "connectedAt" DATETIME NOT NULL,
                    "lastRefreshedAt" DATETIME,
                    "lastCheckedAt" DATETIME,
                    "revokedAt" DATETIME,
                    "revokedBy" TEXT,
                    "refreshLeaseUntil" DATETIME,
                    "refreshFailureCount" INTEGER NOT NULL DEFAULT 0,
                    "lastError" TEXT,
                    "updatedAt" DATETIME NOT NULL,
                    "refreshLeaseOwner" TEXT,
                    "nextRefreshAt" DATETIME,
                    UNIQUE ("environment", "merchantId")
                );
                INSERT INTO "new_connection" SELECT
                    id, environment, merchantId, sealedAccessToken, sealedRefreshToken, tokenType, expiresAt,
                    refreshTokenExpiresAt, scopes, shortLived, flow, status, partnerId, partnerReference, connectedAt,
                    lastRefreshedAt, lastCheckedAt, revokedAt, revokedBy, refreshLeaseUntil, refreshFailureCount,
                    lastError, updatedAt, refreshLeaseOwner, nextRefreshAt
                FROM "connection";
                DROP TABLE "connection";
                ALTER TABLE "new_connection" RENAME TO "connection";
                CREATE INDEX "index_connection_on_status" ON "connection"("status");

                CREATE TABLE "new_auditEvent" (
                    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                    "occurredAt" DATETIME NOT NULL,
                    "actor" TEXT NOT NULL CHECK (
                        "actor" IN ('merchant', 'system', 'square', 'cli')
                        OR "actor" GLOB 'admin:?*' OR "actor" GLOB 'partner:?*'),
                    "action" TEXT NOT NULL CHECK ("action" IN (
                        'authorization.started', 'authorization.rejected', 'authorization.denied',
                        'authorization.failed', 'connection.connected', 'connection.revoked',
                        'connection.revocation_confirmed', 'connection.disconnect_failed', 'token.refreshed',
                        'token.refresh_failed', 'token.needs_reauth', 'token.expired', 'keys.rotated',
                        'environment.rekeyed')),
                    "merchantId" TEXT,
                    "detail" TEXT NOT NULL
                );
                INSERT INTO "new_auditEvent" SELECT id, occurredAt, actor, action, merchantId, detail FROM "auditEvent";
                DROP TABLE "auditEvent";
                ALTER TABLE "new_auditEvent" RENAME TO "auditEvent";
                CREATE INDEX "index_auditEvent_on_occurredAt" ON "auditEvent"("occurredAt");
                CREATE INDEX "index_auditEvent_on_merchantId" ON "auditEvent"("merchantId");
                """
        )
    }
}
