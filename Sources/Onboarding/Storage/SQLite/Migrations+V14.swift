import GRDB

extension Migrations {
    static let v14Name = "v14: one-time admin passwords; own second-factor changes audited; partner references found in any case"

    /// An admin added in the dashboard gets a one-time password (`passwordChangeRequired` until they choose their
    /// own); turning one's own second factor off and renewing recovery codes become audit actions; the dashboard's
    /// reference search moves to a case-insensitive index (ASCII letters, as SQLite's NOCASE folds them).
    static func v14AdminsInTheDashboard(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE "adminUser" ADD COLUMN "passwordChangeRequired" BOOLEAN NOT NULL DEFAULT 0;
                INSERT INTO "auditAction" ("name") VALUES ('admin.totp_disabled'), ('admin.recovery_codes_renewed');
                DROP INDEX "connection_by_reference";
                CREATE INDEX "connection_by_reference_nocase" ON "connection"("partnerReference" COLLATE NOCASE);
                """
        )
    }
}
