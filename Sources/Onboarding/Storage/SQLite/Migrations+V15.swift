import GRDB

extension Migrations {
    static let v15Name = "v15: partner events written by the application, not by triggers"

    /// Partners' events are now made in Swift (`PartnerEvents`) inside each change's transaction, the same way on
    /// every storage engine; the triggers that made them in SQL go.
    ///
    /// v9, v11 and v12 made and remade those triggers. They no longer do: the migrator always runs to this version
    /// before the server answers, so a database of any age ends with the same schema (docs/decisions.md).
    static func v15PartnerEventsWrittenInSwift(_ db: Database) throws {
        try db.execute(sql: dropPartnerEventTriggers)
    }

    /// Drops every partner event trigger any version made, where it exists.
    static let dropPartnerEventTriggers = [
        "webhook_connection_created_insert", "webhook_connection_created_adopted", "webhook_connection_created_update",
        "webhook_connection_reconnected", "webhook_connection_refreshed", "webhook_connection_refresh_failed",
        "webhook_connection_recovered", "webhook_connection_revoked", "webhook_onboarding_link_completed",
    ].map { "DROP TRIGGER IF EXISTS \"\($0)\";" }.joined(separator: "\n")
}
