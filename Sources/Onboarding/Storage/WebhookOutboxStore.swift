import Foundation

/// The partner webhook outbox: due deliveries claimed, their outcomes, the events list, resending.
protocol WebhookOutboxStore: Sendable {
    /// Webhook deliveries that are due (never tried, or their retry time has come), oldest first.
    func dueWebhookDeliveries(now: Date, limit: Int) async throws(StorageError) -> [WebhookDeliveryRecord]

    /// Takes one due delivery for an attempt until `until`; false when another worker has it or it is done.
    func claimWebhookDelivery(id: String, until: Date, now: Date) async throws(StorageError) -> Bool

    /// Records a delivery the partner accepted, and that its endpoint works again.
    func recordWebhookDelivered(id: String, status: Int, now: Date) async throws(StorageError)

    /// Records a failed attempt: to retry at `retryAt`, or (nil) given up, marking the partner's endpoint failing and
    /// auditing that.
    func recordWebhookAttemptFailed(
        id: String,
        status: Int?,
        error: String,
        retryAt: Date?,
        now: Date,
        audit: AuditEventRecord?
    ) async throws(StorageError)

    /// A partner's deliveries, newest first (all partners' when nil).
    func webhookDeliveries(partnerId: String?, limit: Int) async throws(StorageError) -> [WebhookDeliveryRecord]

    /// Queues a delivery again now (an operator's resend), with the audit event; false when it is unknown.
    func resendWebhookDelivery(id: String, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool

    /// A partner's events queued after the event `after` (from the start when nil), oldest first, of one type when
    /// `type` is given and none created before `since`; nil when `after` is not one of the partner's events.
    func partnerEvents(
        partnerId: String,
        after: String?,
        type: String?,
        since: Date,
        limit: Int
    ) async throws(StorageError)
        -> [WebhookDeliveryRecord]?

    /// How many deliveries wait to be sent or retried.
    func pendingWebhookCount() async throws(StorageError) -> Int
}
