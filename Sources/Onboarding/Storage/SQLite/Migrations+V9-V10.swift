import GRDB

extension Migrations {
    static let v9Name = "v9: partners, API keys, onboarding links, idempotency keys"
    static let v10Name = "v10: status check due index"

    /// Partners, API keys, onboarding links, idempotency keys.
    static func v9PartnersKeysLinksIdempotency(_ db: Database) throws {
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
    }

    /// Status check due index.
    static func v10StatusCheckDueIndex(_ db: Database) throws {
        // Only the rows a status sweep can check, oldest check first (never checked, NULL, first): the sweep reads
        // its due set a page at a time from here. Queries must spell this WHERE literally for SQLite to use it.
        try db.execute(
            sql: """
                CREATE INDEX "connection_status_check_due" ON "connection"("lastCheckedAt")
                    WHERE "status" = 'active' AND "sealedAccessToken" IS NOT NULL;
                """
        )
    }
}
