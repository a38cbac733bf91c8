import Foundation
import GRDB

extension AppDatabase {
    func dueWebhookDeliveries(now: Date, limit: Int) async throws(StorageError) -> [WebhookDeliveryRecord] {
        try await read { db in
            try WebhookDeliveryRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM "webhookDelivery"
                    WHERE "deliveredAt" IS NULL AND "failedAt" IS NULL AND ("nextAttemptAt" IS NULL OR "nextAttemptAt" <= ?)
                    ORDER BY "createdAt" LIMIT ?
                    """,
                // Polled every few seconds even when idle: bound without `DateFormatter`, so an idle server never loads ICU.
                arguments: [StorageTimestamp(now), limit]
            )
        }
    }

    func claimWebhookDelivery(id: String, until: Date, now: Date) async throws(StorageError) -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE "webhookDelivery" SET "nextAttemptAt" = ?
                    WHERE "id" = ? AND "deliveredAt" IS NULL AND "failedAt" IS NULL
                        AND ("nextAttemptAt" IS NULL OR "nextAttemptAt" <= ?)
                    """,
                arguments: [until, id, now]
            )
            return db.changesCount == 1
        }
    }

    func recordWebhookDelivered(id: String, status: Int, now: Date) async throws(StorageError) {
        try await write { db in
            guard var delivery = try WebhookDeliveryRecord.fetchOne(db, key: id) else { return }
            delivery.attempts += 1
            delivery.deliveredAt = now
            delivery.nextAttemptAt = nil
            delivery.lastStatus = status
            delivery.lastError = nil
            try delivery.update(db)
            try db.execute(sql: #"UPDATE "partner" SET "webhookFailingSince" = NULL WHERE "id" = ?"#, arguments: [delivery.partnerId])
        }
    }

    func recordWebhookAttemptFailed(
        id: String,
        status: Int?,
        error: String,
        retryAt: Date?,
        now: Date,
        audit: AuditEventRecord?
    ) async throws(StorageError) {
        try await write { db in
            guard var delivery = try WebhookDeliveryRecord.fetchOne(db, key: id) else { return }
            delivery.attempts += 1
            delivery.lastStatus = status
            delivery.lastError = String(error.prefix(300))
            delivery.nextAttemptAt = retryAt
            if retryAt == nil {
                delivery.failedAt = now
                try db.execute(
                    sql: #"UPDATE "partner" SET "webhookFailingSince" = COALESCE("webhookFailingSince", ?) WHERE "id" = ?"#,
                    arguments: [now, delivery.partnerId]
                )
                if var audit {
                    try audit.insert(db)
                }
            }
            try delivery.update(db)
        }
    }

    func webhookDeliveries(partnerId: String?, limit: Int) async throws(StorageError) -> [WebhookDeliveryRecord] {
        try await read { db in
            // Events of one write share a time; the rowid keeps them in the order they were queued.
            var request = WebhookDeliveryRecord.order(WebhookDeliveryRecord.Columns.createdAt.desc, Column.rowID.desc)
            if let partnerId { request = request.filter(WebhookDeliveryRecord.Columns.partnerId == partnerId) }
            return try request.limit(limit).fetchAll(db)
        }
    }

    func resendWebhookDelivery(id: String, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool {
        try await write { db in
            guard var delivery = try WebhookDeliveryRecord.fetchOne(db, key: id) else { return false }
            delivery.failedAt = nil
            delivery.deliveredAt = nil
            delivery.nextAttemptAt = now
            try delivery.update(db)
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    func partnerEvents(
        partnerId: String,
        after: String?,
        type: String?,
        since: Date,
        limit: Int
    ) async throws(StorageError)
        -> [WebhookDeliveryRecord]?
    {
        try await read { db in
            var position: Int64 = 0
            if let after {
                let found = try Int64.fetchOne(
                    db,
                    sql: #"SELECT rowid FROM "webhookDelivery" WHERE "id" = ? AND "partnerId" = ?"#,
                    arguments: [after, partnerId]
                )
                guard let found else { return nil }
                position = found
            }
            // The rowid is the order events were queued in, and only grows: a keyset that never skips or repeats.
            return try WebhookDeliveryRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM "webhookDelivery"
                    WHERE "partnerId" = ? AND rowid > ? AND "createdAt" >= ? AND (? IS NULL OR "type" = ?)
                    ORDER BY rowid LIMIT ?
                    """,
                arguments: [partnerId, position, since, type, type, limit]
            )
        }
    }

    func pendingWebhookCount() async throws(StorageError) -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: #"SELECT COUNT(*) FROM "webhookDelivery" WHERE "deliveredAt" IS NULL AND "failedAt" IS NULL"#) ?? 0
        }
    }
}
