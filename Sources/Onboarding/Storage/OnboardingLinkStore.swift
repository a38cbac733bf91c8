import Foundation

/// A partner's onboarding links.
protocol OnboardingLinkStore: Sendable {
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
