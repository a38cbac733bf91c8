import GRDB

extension Migrations {
    static let v11Name = "v11: audit actions and authorization outcomes in lookup tables; created after revocation; no kept token"

    /// The last rebuild of `auditEvent` and `authorization`: their action and outcome lists move from `CHECK`s to
    /// lookup tables their columns reference, so a new action or outcome is one `INSERT` in a migration, never a
    /// table copy, and the schema still refuses a value the code cannot hold. The lists are written out, never
    /// derived from the enums, which grow in later migrations. Answers kept
    /// for an `Idempotency-Key` that carry an access token (kept by mistake before) are deleted; the writer runs with
    /// `secure_delete`, so their bytes are overwritten, not only unlinked.
    static func v11ListsCheckedInSwiftAndNoKeptToken(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE "authorizationOutcome" ("name" TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                INSERT INTO "authorizationOutcome" ("name") VALUES
                    ('consumed'), ('connected'), ('denied'), ('square_error'), ('missing_code'), ('exchange_failed'),
                    ('held_by_another_partner');
                CREATE TABLE "auditAction" ("name" TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                INSERT INTO "auditAction" ("name") VALUES
                    ('authorization.started'), ('authorization.rejected'), ('authorization.denied'),
                    ('authorization.failed'), ('authorization.refused'), ('connection.connected'), ('connection.revoked'),
                    ('connection.revocation_confirmed'), ('connection.disconnect_failed'), ('token.refreshed'),
                    ('token.refresh_failed'), ('token.needs_reauth'), ('token.expired'), ('token.status_checked'),
                    ('keys.rotated'), ('environment.rekeyed'), ('admin.added'), ('admin.removed'), ('admin.role_changed'),
                    ('admin.password_changed'), ('admin.signed_in'), ('admin.sign_in_failed'), ('admin.signed_out'),
                    ('admin.totp_enabled'), ('admin.totp_reset'), ('admin.recovery_code_used'),
                    ('partner.added'), ('partner.updated'), ('partner.removed'), ('partner.key_created'),
                    ('partner.key_revoked'), ('partner.webhook_secret_rotated'), ('link.created'), ('token.issued'),
                    ('webhook.delivery_failed'), ('webhook.endpoint_failing'), ('webhook.resent');

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
                    "outcome" TEXT REFERENCES "authorizationOutcome"("name"),
                    "merchantId" TEXT
                );
                INSERT INTO "new_authorization" SELECT
                    stateHash, sealedCodeVerifier, scopes, flow, partnerLinkId, returnUrl, browserBindingHash,
                    createdAt, expiresAt, consumedAt, outcome, merchantId
                FROM "authorization";
                DROP TABLE "authorization";
                ALTER TABLE "new_authorization" RENAME TO "authorization";
                CREATE INDEX "index_authorization_on_expiresAt" ON "authorization"("expiresAt");

                CREATE TABLE "new_auditEvent" (
                    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                    "occurredAt" DATETIME NOT NULL,
                    "actor" TEXT NOT NULL CHECK (
                        "actor" IN ('merchant', 'system', 'square', 'cli')
                        OR "actor" GLOB 'admin:?*' OR "actor" GLOB 'partner:?*'),
                    "action" TEXT NOT NULL REFERENCES "auditAction"("name"),
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

                DELETE FROM "idempotencyKey" WHERE "body" LIKE '%"access_token"%';
                """
        )
    }
}
