import GRDB

extension Migrations {
    static let v4Name = "v4: revocation claim"
    static let v5Name = "v5: admin"
    static let v6Name = "v6: dashboard indexes"
    static let v7Name = "v7: refresh due indexes"
    static let v8Name = "v8: admin second factor"

    /// Revocation claim.
    static func v4RevocationClaim(_ db: Database) throws {
        try db.alter(table: "connection") { t in
            t.add(column: "revokeClaimOwner", .text)
            t.add(column: "revokeClaimUntil", .datetime)
        }
    }

    /// Admin.
    static func v5Admins(_ db: Database) throws {
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

    /// Dashboard indexes.
    static func v6DashboardIndexes(_ db: Database) throws {
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

    /// Refresh due indexes.
    static func v7RefreshDueIndexes(_ db: Database) throws {
        // One index per way of being due, so SQLite answers the due query by index union, not a table scan.
        try db.execute(
            sql: """
                CREATE INDEX "connection_by_issued" ON "connection"(COALESCE("lastRefreshedAt", "connectedAt"));
                CREATE INDEX "connection_by_expiresAt" ON "connection"("expiresAt");
                CREATE INDEX "connection_by_refreshExpiresAt" ON "connection"("refreshTokenExpiresAt");
                """
        )
    }

    /// Admin second factor.
    static func v8AdminSecondFactor(_ db: Database) throws {
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
}
