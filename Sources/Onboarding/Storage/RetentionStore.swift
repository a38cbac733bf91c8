import Foundation

/// Deleting what is past its retention, in batches.
protocol RetentionStore: Sendable {
    /// Deletes up to `limit` rows of each kind older than its cutoff, in one transaction; says how many went.
    func deleteExpiredBatch(_ cutoffs: RetentionCutoffs, limit: Int) async throws(StorageError) -> RetentionCounts
}

/// Rows older than these go in a retention sweep.
struct RetentionCutoffs: Sendable, Equatable {
    var authorizationsExpiredBefore: Date
    var sessionsEndedBefore: Date
    var squareEventsReceivedBefore: Date
    var auditBefore: Date
    /// Partners' idempotency keys live a day.
    var idempotencyKeysBefore: Date = .distantPast
    /// Partners' events (finished deliveries) are kept to replay for `PartnerEvents.retention`.
    var webhookEventsBefore: Date = .distantPast
    /// Failed admin sign-ins older than the longest throttle window (a day) count for nothing.
    var signInFailuresBefore: Date = .distantPast
}

/// How many rows of each kind a retention sweep deleted.
struct RetentionCounts: Sendable, Equatable {
    var authorizations = 0
    var sessions = 0
    var squareEvents = 0
    var auditEvents = 0
    var idempotencyKeys = 0
    var webhookEvents = 0
    var signInFailures = 0

    var total: Int { authorizations + sessions + squareEvents + auditEvents + idempotencyKeys + webhookEvents + signInFailures }

    static func + (left: Self, right: Self) -> Self {
        RetentionCounts(
            authorizations: left.authorizations + right.authorizations,
            sessions: left.sessions + right.sessions,
            squareEvents: left.squareEvents + right.squareEvents,
            auditEvents: left.auditEvents + right.auditEvents,
            idempotencyKeys: left.idempotencyKeys + right.idempotencyKeys,
            webhookEvents: left.webhookEvents + right.webhookEvents,
            signInFailures: left.signInFailures + right.signInFailures
        )
    }
}
