import Foundation
import Logging

/// Deletes what is no longer needed: expired authorizations and sessions, old Square event ids, old audit events.
struct RetentionSweeper: Sendable {
    let store: any RetentionStore
    let settings: RetentionSettings
    let clock: AppClock
    let logger: Logger

    /// Deletes in batches of `settings.batchSize` rows per kind, one transaction each, until nothing is left to delete.
    func sweep(shouldStop: @Sendable () -> Bool = { false }) async throws(StorageError) -> RetentionCounts {
        let cutoffs = settings.cutoffs(now: clock.now())
        var total = RetentionCounts()
        while !shouldStop() {
            let batch = try await store.deleteExpiredBatch(cutoffs, limit: settings.batchSize)
            total = total + batch
            let largest =
                [
                    batch.authorizations, batch.sessions, batch.squareEvents, batch.auditEvents, batch.idempotencyKeys, batch.webhookEvents,
                    batch.signInFailures,
                ].max() ?? 0
            guard largest == settings.batchSize else {
                break
            }
            await Task.yield()
        }
        if total.total > 0 {
            logger.info(
                "Retention sweep deleted old rows",
                metadata: [
                    "authorizations": "\(total.authorizations)", "sessions": "\(total.sessions)",
                    "square_events": "\(total.squareEvents)", "audit_events": "\(total.auditEvents)",
                    "idempotency_keys": "\(total.idempotencyKeys)", "webhook_events": "\(total.webhookEvents)",
                    "sign_in_failures": "\(total.signInFailures)",
                ]
            )
        }
        return total
    }
}
