import GRDB

/// The schema's history, one function per migration; a shipped migration is never edited, only followed by a new one
/// (v15 says why v9, v11 and v12 no longer make triggers).
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(v1Name, migrate: v1AuthorizationsConnectionsSessionsAudit)
        migrator.registerMigration(v2Name, migrate: v2RefreshLeaseAndSquareEvents)
        migrator.registerMigration(v3Name, migrate: v3TypedColumnsChecked)
        migrator.registerMigration(v4Name, migrate: v4RevocationClaim)
        migrator.registerMigration(v5Name, migrate: v5Admins)
        migrator.registerMigration(v6Name, migrate: v6DashboardIndexes)
        migrator.registerMigration(v7Name, migrate: v7RefreshDueIndexes)
        migrator.registerMigration(v8Name, migrate: v8AdminSecondFactor)
        migrator.registerMigration(v9Name, migrate: v9PartnersKeysLinksIdempotency)
        migrator.registerMigration(v10Name, migrate: v10StatusCheckDueIndex)
        migrator.registerMigration(v11Name, migrate: v11ListsCheckedInSwiftAndNoKeptToken)
        migrator.registerMigration(v12Name, migrate: v12LinkLifeAndEvents)
        migrator.registerMigration(v13Name, migrate: v13SignInFailures)
        migrator.registerMigration(v14Name, migrate: v14AdminsInTheDashboard)
        migrator.registerMigration(v15Name, migrate: v15PartnerEventsWrittenInSwift)
        return migrator
    }
}
