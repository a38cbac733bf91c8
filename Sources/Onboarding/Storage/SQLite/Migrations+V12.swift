import GRDB

extension Migrations {
    static let v12Name = "v12: a link's whole life (refresh URL, cancellation, result), link ids on events, events kept to replay"

    /// Links gain a refresh URL, a cancellation time and their result; a connection remembers the link that last
    /// connected it, so its events can name it; the outbox's merchant becomes optional (a link can end with no
    /// merchant) and is indexed for the partner's events list. Partner events gain `link_id` and `onboarding_link.completed`.
    static func v12LinkLifeAndEvents(_ db: Database) throws {
        try db.execute(sql: dropPartnerEventTriggers)
        try db.execute(
            sql: """
                ALTER TABLE "onboardingLink" ADD COLUMN "refreshUrl" TEXT;
                ALTER TABLE "onboardingLink" ADD COLUMN "cancelledAt" DATETIME;
                ALTER TABLE "onboardingLink" ADD COLUMN "result" TEXT CHECK ("result" IN (
                    'connected', 'reconnected', 'denied', 'error', 'connected_through_another_partner'));
                ALTER TABLE "onboardingLink" ADD COLUMN "resultError" TEXT;
                -- Links used before this version: connected, or (no merchant kept) refused for another partner.
                UPDATE "onboardingLink" SET "result" = CASE WHEN "merchantId" IS NULL
                    THEN 'connected_through_another_partner' ELSE 'connected' END
                WHERE "usedAt" IS NOT NULL;
                ALTER TABLE "connection" ADD COLUMN "partnerLinkId" TEXT;

                INSERT INTO "authorizationOutcome" ("name") VALUES ('link_cancelled');
                INSERT INTO "auditAction" ("name") VALUES ('link.cancelled'), ('webhook.tested');

                CREATE TABLE "new_webhookDelivery" (
                    "id" TEXT PRIMARY KEY NOT NULL,
                    "partnerId" TEXT NOT NULL REFERENCES "partner"("id") ON DELETE CASCADE,
                    "type" TEXT NOT NULL,
                    "merchantId" TEXT,
                    "payload" TEXT NOT NULL,
                    "createdAt" DATETIME NOT NULL,
                    "attempts" INTEGER NOT NULL DEFAULT 0,
                    "nextAttemptAt" DATETIME,
                    "deliveredAt" DATETIME,
                    "failedAt" DATETIME,
                    "lastStatus" INTEGER,
                    "lastError" TEXT
                );
                INSERT INTO "new_webhookDelivery" (
                    rowid, id, partnerId, type, merchantId, payload, createdAt, attempts, nextAttemptAt, deliveredAt,
                    failedAt, lastStatus, lastError)
                SELECT rowid, id, partnerId, type, merchantId, payload, createdAt, attempts, nextAttemptAt, deliveredAt,
                    failedAt, lastStatus, lastError
                FROM "webhookDelivery";
                DROP TABLE "webhookDelivery";
                ALTER TABLE "new_webhookDelivery" RENAME TO "webhookDelivery";
                CREATE INDEX "webhookDelivery_pending" ON "webhookDelivery"("nextAttemptAt")
                    WHERE "deliveredAt" IS NULL AND "failedAt" IS NULL;
                CREATE INDEX "webhookDelivery_by_partner" ON "webhookDelivery"("partnerId", "createdAt");
                -- The events list walks one partner's events in the order they were queued (rowid).
                CREATE INDEX "webhookDelivery_events" ON "webhookDelivery"("partnerId", "type");
                CREATE INDEX "webhookDelivery_by_createdAt" ON "webhookDelivery"("createdAt");
                """
        )
    }
}
