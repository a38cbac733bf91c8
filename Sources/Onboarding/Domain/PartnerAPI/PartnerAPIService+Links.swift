import Foundation

/// A partner's view of a link's life and of its own events: read and cancel links, replay events, test the endpoint.
extension PartnerAPIService {
    /// One of the partner's links.
    func link(id: String, for partner: PartnerRecord) async throws(PartnerError) -> OnboardingLinkRecord {
        let found = try await storingPartner("reading an onboarding link", logger: logger) { try await store.onboardingLink(id: id) }
        // Another partner's link is not found, exactly like one that does not exist.
        guard let found, found.partnerId == partner.id else { throw .linkNotFound }
        return found
    }

    /// Cancels one of the partner's open links; cancelling a cancelled one answers the same, a finished one is refused.
    func cancelLink(id: String, for partner: PartnerRecord) async throws(PartnerError) -> OnboardingLinkRecord {
        let now = clock.now()
        let link = try await storingPartner("cancelling an onboarding link", logger: logger) {
            try await store.cancelOnboardingLink(
                id: id,
                partnerId: partner.id,
                now: now,
                audit: AuditEventRecord(occurredAt: now, actor: .partner(partner.id), action: .linkCancelled, detail: "link=\(id)")
            )
        }
        guard let link else { throw .linkNotFound }
        let status = link.status(at: now)
        guard status == .cancelled else { throw .linkNotOpen(status: status) }
        return link
    }

    /// The partner's events after `after` (oldest first), the same ids and payloads its webhooks carry, kept
    /// `PartnerEvents.retention`; one more than `limit` is read to say whether more follow.
    func events(
        after: String?,
        type: String?,
        limit: Int,
        for partner: PartnerRecord
    ) async throws(PartnerError) -> (
        events: [WebhookDeliveryRecord], hasMore: Bool
    ) {
        let since = clock.now().addingTimeInterval(-PartnerEvents.retention)
        let found = try await storingPartner("listing events", logger: logger) {
            try await store.partnerEvents(partnerId: partner.id, after: after, type: type, since: since, limit: limit + 1)
        }
        guard let found else {
            throw .invalidField(field: "after", reason: "not one of your events of the last \(PartnerEvents.retentionDays) days")
        }
        return (Array(found.prefix(limit)), found.count > limit)
    }

    /// What a test event's delivery came to.
    struct WebhookTest: Sendable {
        var id: String
        var outcome: WebhookSender.Outcome
    }

    /// Sends a signed `webhook.test` event to the partner's endpoint now and says how it answered; nothing is queued.
    func testWebhook(for partner: PartnerRecord) async throws(PartnerError) -> WebhookTest {
        guard let url = partner.webhookUrl else { throw .noWebhookEndpoint }
        let secret: String
        do {
            secret = try vault.openPartnerSecret(partner.webhookSecretSealed, partnerId: partner.id)
        } catch {
            logger.critical("Could not open a partner's signing secret", metadata: ["partner_id": .string(partner.id)])
            throw .storageUnavailable
        }
        let now = clock.now()
        let id = PartnerEvents.newMessageId()
        let body = PartnerEvents.testPayload(partnerId: partner.id, now: now)
        let outcome = await WebhookSender(targets: webhookTargets).send(id: id, body: body, to: url, secret: secret, now: now, client: nil)
        let result: String
        switch outcome {
        case .answered(let status): result = "answered \(status)"
        case .failed(let error): result = error
        }
        try await storingPartner("auditing a webhook test", logger: logger) {
            try await store.appendAudit(
                AuditEventRecord(occurredAt: now, actor: .partner(partner.id), action: .webhookTested, detail: "webhook=\(id) \(result)")
            )
        }
        return WebhookTest(id: id, outcome: outcome)
    }
}
