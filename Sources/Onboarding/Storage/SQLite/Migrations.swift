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
        migrator.registerMigration("v3: typed status, flow, outcome, action and actor with CHECK constraints") { db in
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
        migrator.registerMigration("v4: revocation claim") { db in
            try db.alter(table: "connection") { t in
                t.add(column: "revokeClaimOwner", .text)
                t.add(column: "revokeClaimUntil", .datetime)
            }
        }
        migrator.registerMigration("v5: admin") { db in
            // Names: 1-64 of a-z 0-9 . _ - (GLOB's character class, negated). The audit action list is written out in
            // full again (v3's plus the admin ones): never derived from `AuditAction`, which grows in later migrations.
            try db.execute(
                sql: """
                    CREATE TABLE "adminUser" (
                        "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                        "name" TEXT NOT NULL UNIQUE CHECK (
                            length("name") BETWEEN 1 AND 64 AND "name" NOT GLOB '*[^a-z0-9._-]*'),
                        "role" TEXT NOT NULL CHECK ("role" IN ('viewer', 'operator', 'owner')),
                        "passwordHash" TEXT NOT NULL,
                        "totpSecretSealed" TEXT,
                        "totpEnabledAt" DATETIME,
                        "recoveryCodeHashes" TEXT,
                        "createdAt" DATETIME NOT NULL,
                        "lastSignInAt" DATETIME
                    );

                    CREATE TABLE "adminSession" (
                        "sessionHash" TEXT PRIMARY KEY NOT NULL,
                        "adminUserId" INTEGER NOT NULL REFERENCES "adminUser"("id") ON DELETE CASCADE,
                        "csrfToken" TEXT NOT NULL,
                        "createdAt" DATETIME NOT NULL,
                        "lastSeenAt" DATETIME NOT NULL,
                        "idleExpiresAt" DATETIME NOT NULL,
                        "expiresAt" DATETIME NOT NULL
                    );
                    CREATE INDEX "index_adminSession_on_adminUserId" ON "adminSession"("adminUserId");

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
                            'environment.rekeyed', 'admin.added', 'admin.removed', 'admin.role_changed',
                            'admin.password_changed', 'admin.signed_in', 'admin.sign_in_failed', 'admin.signed_out')),
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
        migrator.registerMigration("v6: dashboard indexes") { db in
            // Each list order of the dashboard has an index that returns a page without sorting the table.
            try db.execute(
                sql: """
                    CREATE INDEX "connection_by_status_recent" ON "connection"("environment", "status", "connectedAt", "id");
                    CREATE INDEX "connection_by_recent" ON "connection"("environment", "connectedAt", "id");
                    CREATE INDEX "connection_by_expiry" ON "connection"("environment", COALESCE("expiresAt", '9999-12-31'), "id");
                    CREATE INDEX "connection_by_merchant" ON "connection"("merchantId");
                    CREATE INDEX "connection_by_reference" ON "connection"("partnerReference");
                    CREATE INDEX "auditEvent_by_action" ON "auditEvent"("action", "id");
                    CREATE INDEX "auditEvent_by_actor" ON "auditEvent"("actor", "id");
                    """
            )
        }
        migrator.registerMigration("v7: refresh due indexes") { db in
            // One index per way of being due, so SQLite answers the due query by index union, not a table scan.
            try db.execute(
                sql: """
                    CREATE INDEX "connection_by_issued" ON "connection"(COALESCE("lastRefreshedAt", "connectedAt"));
                    CREATE INDEX "connection_by_expiresAt" ON "connection"("expiresAt");
                    CREATE INDEX "connection_by_refreshExpiresAt" ON "connection"("refreshTokenExpiresAt");
                    """
            )
        }
        migrator.registerMigration("v8: admin second factor") { db in
            // The last accepted TOTP step (a code is never accepted twice), and the audit action list written out in
            // full again (v5's plus the status check and the second factor's), with v5's and v6's audit indexes.
            try db.execute(
                sql: """
                    ALTER TABLE "adminUser" ADD COLUMN "totpLastStep" INTEGER;

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
                            'token.refresh_failed', 'token.needs_reauth', 'token.expired', 'token.status_checked',
                            'keys.rotated', 'environment.rekeyed', 'admin.added', 'admin.removed', 'admin.role_changed',
                            'admin.password_changed', 'admin.signed_in', 'admin.sign_in_failed', 'admin.signed_out',
                            'admin.totp_enabled', 'admin.totp_reset', 'admin.recovery_code_used')),
                        "merchantId" TEXT,
                        "detail" TEXT NOT NULL
                    );
                    INSERT INTO "new_auditEvent" SELECT id, occurredAt, actor, action, merchantId, detail FROM "auditEvent";
                    DROP TABLE "auditEvent";
                    ALTER TABLE "new_auditEvent" RENAME TO "auditEvent";
                    CREATE INDEX "index_auditEvent_on_occurredAt" ON "auditEvent"("occurredAt");
                    CREATE INDEX "index_auditEvent_on_merchantId" ON "auditEvent"("merchantId");
                    CREATE INDEX "auditEvent_by_action" ON "auditEvent"("action", "id");
                    CREATE INDEX "auditEvent_by_actor" ON "auditEvent"("actor", "id");
                    """
            )
        }
        migrator.registerMigration("v9: partners, API keys, onboarding links, idempotency keys") { db in
            // Partners and what they may do; the audit action list written out in full again (v8's plus the partner
            // realm's), with the audit indexes.
            try db.execute(
                sql: """
                    CREATE TABLE "partner" (
                        "id" TEXT PRIMARY KEY NOT NULL,
                        "name" TEXT NOT NULL UNIQUE,
                        "displayName" TEXT NOT NULL,
                        "returnUrls" TEXT NOT NULL,
                        "popupOrigins" TEXT NOT NULL,
                        "webhookUrl" TEXT,
                        "webhookSecretSealed" TEXT NOT NULL,
                        "createdAt" DATETIME NOT NULL,
                        "updatedAt" DATETIME NOT NULL
                    );
                    CREATE TABLE "partnerApiKey" (
                        "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                        "partnerId" TEXT NOT NULL REFERENCES "partner"("id") ON DELETE CASCADE,
                        "prefix" TEXT NOT NULL UNIQUE,
                        "keyHash" TEXT NOT NULL,
                        "createdAt" DATETIME NOT NULL,
                        "lastUsedAt" DATETIME,
                        "revokedAt" DATETIME
                    );
                    CREATE INDEX "partnerApiKey_by_partner" ON "partnerApiKey"("partnerId");
                    CREATE TABLE "onboardingLink" (
                        "id" TEXT PRIMARY KEY NOT NULL,
                        "partnerId" TEXT NOT NULL REFERENCES "partner"("id") ON DELETE CASCADE,
                        "reference" TEXT NOT NULL,
                        "scopes" TEXT NOT NULL,
                        "returnUrl" TEXT NOT NULL,
                        "mode" TEXT NOT NULL CHECK ("mode" IN ('redirect', 'popup')),
                        "createdAt" DATETIME NOT NULL,
                        "expiresAt" DATETIME NOT NULL,
                        "usedAt" DATETIME,
                        "merchantId" TEXT
                    );
                    CREATE INDEX "onboardingLink_by_partner" ON "onboardingLink"("partnerId", "createdAt");
                    CREATE TABLE "idempotencyKey" (
                        "partnerId" TEXT NOT NULL REFERENCES "partner"("id") ON DELETE CASCADE,
                        "key" TEXT NOT NULL,
                        "requestHash" TEXT NOT NULL,
                        "status" INTEGER NOT NULL,
                        "body" TEXT NOT NULL,
                        "createdAt" DATETIME NOT NULL,
                        PRIMARY KEY ("partnerId", "key")
                    );
                    CREATE INDEX "idempotencyKey_by_createdAt" ON "idempotencyKey"("createdAt");
                    ALTER TABLE "partner" ADD COLUMN "webhookFailingSince" DATETIME;
                    CREATE TABLE "webhookDelivery" (
                        "id" TEXT PRIMARY KEY NOT NULL,
                        "partnerId" TEXT NOT NULL REFERENCES "partner"("id") ON DELETE CASCADE,
                        "type" TEXT NOT NULL,
                        "merchantId" TEXT NOT NULL,
                        "payload" TEXT NOT NULL,
                        "createdAt" DATETIME NOT NULL,
                        "attempts" INTEGER NOT NULL DEFAULT 0,
                        "nextAttemptAt" DATETIME,
                        "deliveredAt" DATETIME,
                        "failedAt" DATETIME,
                        "lastStatus" INTEGER,
                        "lastError" TEXT
                    );
                    CREATE INDEX "webhookDelivery_pending" ON "webhookDelivery"("nextAttemptAt")
                        WHERE "deliveredAt" IS NULL AND "failedAt" IS NULL;
                    CREATE INDEX "webhookDelivery_by_partner" ON "webhookDelivery"("partnerId", "createdAt");
                    CREATE INDEX "connection_by_partner" ON "connection"("partnerId", "partnerReference", "merchantId");

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
                            'token.refresh_failed', 'token.needs_reauth', 'token.expired', 'token.status_checked',
                            'keys.rotated', 'environment.rekeyed', 'admin.added', 'admin.removed', 'admin.role_changed',
                            'admin.password_changed', 'admin.signed_in', 'admin.sign_in_failed', 'admin.signed_out',
                            'admin.totp_enabled', 'admin.totp_reset', 'admin.recovery_code_used',
                            'partner.added', 'partner.updated', 'partner.removed', 'partner.key_created',
                            'partner.key_revoked', 'partner.webhook_secret_rotated', 'link.created', 'token.issued',
                            'webhook.delivery_failed', 'webhook.endpoint_failing', 'webhook.resent')),
                        "merchantId" TEXT,
                        "detail" TEXT NOT NULL
                    );
                    INSERT INTO "new_auditEvent" SELECT id, occurredAt, actor, action, merchantId, detail FROM "auditEvent";
                    DROP TABLE "auditEvent";
                    ALTER TABLE "new_auditEvent" RENAME TO "auditEvent";
                    CREATE INDEX "index_auditEvent_on_occurredAt" ON "auditEvent"("occurredAt");
                    CREATE INDEX "index_auditEvent_on_merchantId" ON "auditEvent"("merchantId");
                    CREATE INDEX "auditEvent_by_action" ON "auditEvent"("action", "id");
                    CREATE INDEX "auditEvent_by_actor" ON "auditEvent"("actor", "id");
                    """
            )
            try db.execute(sql: WebhookOutboxTriggers.all)
        }
        migrator.registerMigration("v10: status check due index") { db in
            // Only the rows a status sweep can check, oldest check first (never checked, NULL, first): the sweep reads
            // its due set a page at a time from here. Queries must spell this WHERE literally for SQLite to use it.
            try db.execute(
                sql: """
                    CREATE INDEX "connection_status_check_due" ON "connection"("lastCheckedAt")
                        WHERE "status" = 'active' AND "sealedAccessToken" IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration(v11Name, migrate: v11ListsCheckedInSwiftAndNoKeptToken)
        migrator.registerMigration(v12Name, migrate: v12LinkLifeAndEvents)
        migrator.registerMigration(v13Name, migrate: v13SignInFailures)
        migrator.registerMigration(v14Name, migrate: v14AdminsInTheDashboard)
        return migrator
    }
}
