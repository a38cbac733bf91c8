import GRDB

extension Migrations {
    static let v13Name = "v13: admin sign-in failures in the database; one second-factor challenge per admin"

    /// Failed admin sign-ins move from one process's memory to a table every instance shares, counted per key
    /// (`name:…`, `address:…`); lockouts, unlocks and exports become audit actions. Each admin holds the hash of their one open
    /// second-factor challenge, spent by the sign-in it opens.
    static func v13SignInFailures(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE "signInFailure" ("key" TEXT NOT NULL, "failedAt" DATETIME NOT NULL);
                CREATE INDEX "signInFailure_by_key" ON "signInFailure"("key", "failedAt");
                INSERT INTO "auditAction" ("name") VALUES ('admin.locked_out'), ('admin.unlocked'), ('admin.exported');
                ALTER TABLE "adminUser" ADD COLUMN "secondFactorChallengeHash" TEXT;
                """
        )
    }
}
