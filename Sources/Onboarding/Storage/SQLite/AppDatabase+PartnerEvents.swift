import Foundation
import GRDB

/// The writes partners' events come from: each reads the row before and after its change and queues what
/// `PartnerEvents` says, in the change's transaction.
///
/// Every write that can change what an event reads (partner, status, connect time, last refresh, failure count, a
/// link's result) goes through `changeConnection`, `queuePartnerEvents(before:after:)` or `completeLink`. The
/// writes left out touch none of those: leases, revocation claims, status-check times, re-keyed tokens.
extension AppDatabase {
    /// Runs `change` (which must not change the connection's partner) on connection `id` and queues the events it
    /// makes; nil when there is no such connection. `change` is given the row as it was and says whether it changed it.
    static func changeConnection(_ db: Database, id: Int64, _ change: (ConnectionRecord) throws -> Bool) throws -> Bool? {
        let read = try db.cachedStatement(sql: "SELECT * FROM connection WHERE id = ?")
        guard let before = try ConnectionRecord.fetchOne(read, arguments: [id]) else { return nil }
        guard try change(before) else { return false }
        // Without a partner before, and with the partner unchanged, no event can follow: skip reading it again.
        guard before.partnerId != nil, let after = try ConnectionRecord.fetchOne(read, arguments: [id]) else { return true }
        try queuePartnerEvents(db, before: before, after: after)
        return true
    }

    /// Queues the events a connection's change makes for its partner (`before` nil for a new row).
    static func queuePartnerEvents(_ db: Database, before: ConnectionRecord?, after: ConnectionRecord) throws {
        try queue(PartnerEvents.connectionChanged(before: before, after: after), db)
    }

    /// Gives an unused link its result and queues its `onboarding_link.completed`; a link used already is left alone.
    static func completeLink(_ db: Database, id: String, at usedAt: Date, merchantId: String?, result: LinkResult, error: String?) throws {
        let completed = try OnboardingLinkRecord.fetchOne(
            db.cachedStatement(
                sql: #"""
                    UPDATE "onboardingLink" SET usedAt = ?, merchantId = ?, result = ?, resultError = ?
                    WHERE id = ? AND usedAt IS NULL RETURNING *
                    """#
            ),
            arguments: [StorageTimestamp(usedAt), merchantId, result, error, id]
        )
        guard let completed, let event = PartnerEvents.linkCompleted(completed) else { return }
        try queue([event], db)
    }

    /// Writes events to the outbox for the partners that have a webhook URL; the others get none.
    private static func queue(_ events: [PartnerEvents.Event], _ db: Database) throws {
        guard !events.isEmpty else { return }
        let endpoint = try db.cachedStatement(sql: #"SELECT "webhookUrl" IS NOT NULL FROM "partner" WHERE "id" = ?"#)
        let insert = try db.cachedStatement(
            sql: #"INSERT INTO "webhookDelivery" ("id", "partnerId", "type", "merchantId", "payload", "createdAt") VALUES (?, ?, ?, ?, ?, ?)"#
        )
        for event in events where try Bool.fetchOne(endpoint, arguments: [event.partnerId]) == true {
            try insert.execute(arguments: [event.id, event.partnerId, event.type, event.merchantId, event.payload, StorageTimestamp(event.createdAt)])
        }
    }
}
