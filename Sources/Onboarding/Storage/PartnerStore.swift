import Foundation

/// What the store keeps for partners: the partners, their API keys, their onboarding links, idempotent answers.
///
/// Part of `OnboardingStore`, so every engine passes the same contract (`StoreContractTests+Partners`).
protocol PartnerStore: Sendable {
    /// Adds a partner with its first API key and the audit event; nil when the name is taken.
    func addPartner(_ partner: PartnerRecord, key: PartnerApiKeyRecord, audit: AuditEventRecord) async throws(StorageError) -> PartnerRecord?
    func partner(named name: String) async throws(StorageError) -> PartnerRecord?
    func partner(id: String) async throws(StorageError) -> PartnerRecord?
    /// Every partner, by name.
    func allPartners() async throws(StorageError) -> [PartnerRecord]
    /// Replaces a partner's settings (found by id), with the audit event; false when it is gone.
    func updatePartner(_ partner: PartnerRecord, audit: AuditEventRecord) async throws(StorageError) -> Bool
    /// Removes a partner with its keys, links and idempotent answers (its connections stay), with the audit event.
    func removePartner(named name: String, audit: AuditEventRecord) async throws(StorageError) -> PartnerRecord?
    /// Adds one more API key to a partner, with the audit event; false when the partner is gone.
    func addPartnerKey(_ key: PartnerApiKeyRecord, audit: AuditEventRecord) async throws(StorageError) -> Bool
    /// Ends one of a partner's keys by its prefix, with the audit event; false when no live key has that prefix.
    func revokePartnerKey(partnerId: String, prefix: String, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool
    /// A partner's keys, newest first, revoked ones included.
    func partnerKeys(partnerId: String) async throws(StorageError) -> [PartnerApiKeyRecord]
    /// The live key with this prefix and its partner.
    func partnerKey(prefix: String) async throws(StorageError) -> PartnerKeyMatch?
    /// Records that a key was used, at most once a minute per key.
    func recordPartnerKeyUse(keyId: Int64, now: Date) async throws(StorageError)
    /// Replaces a partner's sealed signing secret, with the audit event; false when the partner is gone.
    func replacePartnerSecret(partnerId: String, sealed: String, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool

    /// Stores a new onboarding link with its audit event.
    func createOnboardingLink(_ link: OnboardingLinkRecord, audit: AuditEventRecord) async throws(StorageError)
    func onboardingLink(id: String) async throws(StorageError) -> OnboardingLinkRecord?
    /// Cancels a partner's link if it is still open at `now`, with the audit event; the link as it then stands (a
    /// completed, expired or already cancelled one unchanged), or nil when the partner has no such link.
    func cancelOnboardingLink(
        id: String,
        partnerId: String,
        now: Date,
        audit: AuditEventRecord
    ) async throws(StorageError)
        -> OnboardingLinkRecord?

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

    /// The answer first given for a partner's idempotency key.
    func idempotentAnswer(partnerId: String, key: String) async throws(StorageError) -> IdempotencyKeyRecord?
    /// Keeps the first answer for a key; a second writer's answer is dropped and the first one returned.
    func keepIdempotentAnswer(_ answer: IdempotencyKeyRecord) async throws(StorageError) -> IdempotencyKeyRecord
}

/// A live API key and the partner it belongs to.
struct PartnerKeyMatch: Sendable, Equatable {
    var key: PartnerApiKeyRecord
    var partner: PartnerRecord
}

/// Where a connection came from when a partner's link brought the merchant: stored with the connection.
struct PartnerLinkUse: Sendable, Equatable {
    var linkId: String
    var partnerId: String
    var reference: String
}

/// How a link's flow ended when it made no connection: stored on the link, sent as `onboarding_link.completed`.
struct LinkCompletion: Sendable, Equatable {
    var result: LinkResult
    /// The error code, when `result` is `error`.
    var error: String?
}
