import Foundation

/// How long finished rows are kept: every value is a `retention.*` key; the audit log is kept longest.
public struct RetentionSettings: Sendable {
    /// Authorizations are deleted this long after they expired.
    public var authorizations: TimeInterval
    /// Merchant sessions are deleted this long after they ended.
    public var sessions: TimeInterval
    /// Handled Square event ids are forgotten after this long (Square retries an event for at most 3 days).
    public var squareEvents: TimeInterval
    /// Audit events older than this are deleted.
    public var audit: TimeInterval
    /// Rows deleted per transaction, so a large backlog never holds the writer for long.
    public var batchSize: Int

    init(settings: SettingsReader) throws {
        let day: TimeInterval = 86_400
        authorizations = TimeInterval(try settings.int(.retentionAuthorizationDays, in: 1...3650)) * day
        sessions = TimeInterval(try settings.int(.retentionSessionDays, in: 1...3650)) * day
        squareEvents = TimeInterval(try settings.int(.retentionSquareEventDays, in: 4...3650)) * day
        audit = TimeInterval(try settings.int(.retentionAuditDays, in: 30...36500)) * day
        batchSize = try settings.int(.retentionBatchSize, in: 1...100_000)
    }

    /// The cutoffs for a sweep at `now`: rows older than these go.
    func cutoffs(now: Date) -> RetentionCutoffs {
        RetentionCutoffs(
            authorizationsExpiredBefore: now.addingTimeInterval(-authorizations),
            sessionsEndedBefore: now.addingTimeInterval(-sessions),
            squareEventsReceivedBefore: now.addingTimeInterval(-squareEvents),
            auditBefore: now.addingTimeInterval(-audit),
            idempotencyKeysBefore: now.addingTimeInterval(-86_400),
            webhookEventsBefore: now.addingTimeInterval(-PartnerEvents.retention),
            signInFailuresBefore: now.addingTimeInterval(-86_400)
        )
    }
}
