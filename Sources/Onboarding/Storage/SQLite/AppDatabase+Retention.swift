import Foundation
import GRDB

extension AppDatabase {
    func deleteExpiredBatch(_ cutoffs: RetentionCutoffs, limit: Int) async throws(StorageError) -> RetentionCounts {
        try await write { db in
            func delete(_ table: String, _ column: String, before cutoff: Date) throws -> Int {
                try db.execute(
                    sql: """
                        DELETE FROM \(table.quotedDatabaseIdentifier) WHERE rowid IN (
                            SELECT rowid FROM \(table.quotedDatabaseIdentifier)
                            WHERE \(column.quotedDatabaseIdentifier) < ? LIMIT ?)
                        """,
                    arguments: [cutoff, limit]
                )
                return db.changesCount
            }
            // An event still being tried (an operator's late resend) stays until it is delivered or given up on.
            func deleteFinishedEvents(before cutoff: Date) throws -> Int {
                try db.execute(
                    sql: """
                        DELETE FROM "webhookDelivery" WHERE rowid IN (
                            SELECT rowid FROM "webhookDelivery"
                            WHERE "createdAt" < ? AND ("deliveredAt" IS NOT NULL OR "failedAt" IS NOT NULL) LIMIT ?)
                        """,
                    arguments: [cutoff, limit]
                )
                return db.changesCount
            }
            return RetentionCounts(
                authorizations: try delete("authorization", "expiresAt", before: cutoffs.authorizationsExpiredBefore),
                sessions: try delete("merchantSession", "expiresAt", before: cutoffs.sessionsEndedBefore),
                squareEvents: try delete("squareEvent", "receivedAt", before: cutoffs.squareEventsReceivedBefore),
                auditEvents: try delete("auditEvent", "occurredAt", before: cutoffs.auditBefore),
                idempotencyKeys: try delete("idempotencyKey", "createdAt", before: cutoffs.idempotencyKeysBefore),
                webhookEvents: try deleteFinishedEvents(before: cutoffs.webhookEventsBefore),
                signInFailures: try delete("signInFailure", "failedAt", before: cutoffs.signInFailuresBefore)
            )
        }
    }
}
