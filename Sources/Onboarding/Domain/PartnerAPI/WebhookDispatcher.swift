import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Sends the partner webhook outbox: polls for due deliveries, posts each signed, retries with backoff and jitter for
/// at least `retryWindow`, then gives up, marks the partner's endpoint failing and audits it.
///
/// It runs beside the server and never on a request's path; every attempt is claimed in the database first, so two
/// processes never send the same attempt, and a crash mid-attempt only delays it until the claim lapses.
struct WebhookDispatcher: Service {
    let store: any WebhookOutboxStore & PartnerStore
    let vault: TokenVault
    let clock: AppClock
    let logger: Logger
    /// Which endpoints may be called; private and loopback ones only when the operator allows them.
    let targets: WebhookTargetGuard
    var pollInterval: Duration = .seconds(1)
    var concurrency = 8
    var timeout: TimeAmount = .seconds(10)
    /// Deliveries are retried at least this long after the event (Standard Webhooks' convention is days, not minutes).
    var retryWindow: TimeInterval = 3 * 86_400
    /// Waits between attempts, the last repeated; each gets ±20 % jitter.
    var backoff: [TimeInterval] = [5, 30, 120, 600, 1_800, 3_600, 7_200, 14_400, 28_800]

    func run() async throws {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: WebhookSender.configuration(timeout: timeout))
        await withGracefulShutdownHandler {
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let sent = await pass(client: client)
                if sent == 0 { try? await Task.sleep(for: pollInterval) }
            }
        } onGracefulShutdown: {
        }
        try? await client.shutdown()
    }

    /// Sends what is due now, up to a batch; returns how many attempts were made.
    @discardableResult
    func pass(client: HTTPClient) async -> Int {
        let now = clock.now()
        let due: [WebhookDeliveryRecord]
        do {
            due = try await store.dueWebhookDeliveries(now: now, limit: concurrency * 4)
        } catch {
            logger.error("Could not read the webhook outbox", metadata: ["error": "\(error)"])
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            var limit = ConcurrencyLimit(concurrency)
            for delivery in due {
                await limit.waitForSlot(in: &group)
                limit.add(to: &group) { await attempt(delivery, client: client) }
            }
        }
        return due.count
    }

    private func attempt(_ delivery: WebhookDeliveryRecord, client: HTTPClient) async {
        let now = clock.now()
        let claimUntil = now.addingTimeInterval(TimeInterval(timeout.nanoseconds / 1_000_000_000) + 30)
        do {
            guard try await store.claimWebhookDelivery(id: delivery.id, until: claimUntil, now: now) else { return }
            guard let partner = try await store.partner(id: delivery.partnerId) else { return }
            guard let url = partner.webhookUrl else {
                try await failed(delivery, partner: partner, status: nil, error: "the partner has no webhook URL now")
                return
            }
            let secret = try vault.openPartnerSecret(partner.webhookSecretSealed, partnerId: partner.id)
            let sender = WebhookSender(targets: targets, timeout: timeout)
            switch await sender.send(id: delivery.id, body: delivery.payload, to: url, secret: secret, now: now, client: client) {
            case .answered(let status) where (200..<300).contains(status):
                try await store.recordWebhookDelivered(id: delivery.id, status: status, now: clock.now())
                Telemetry.webhookDelivered(type: delivery.type, outcome: "delivered")
            case .answered(let status):
                try await failed(delivery, partner: partner, status: status, error: "the endpoint answered \(status)")
            case .failed(let error):
                try await failed(delivery, partner: partner, status: nil, error: error)
            }
        } catch {
            logger.error("A webhook attempt could not be recorded", metadata: ["webhook_id": .string(delivery.id), "error": "\(error)"])
        }
    }

    private func failed(_ delivery: WebhookDeliveryRecord, partner: PartnerRecord, status: Int?, error: String) async throws {
        let now = clock.now()
        let attempt = delivery.attempts + 1
        let wait = backoff[min(attempt - 1, backoff.count - 1)] * Double.random(in: 0.8...1.2)
        let giveUp = now.timeIntervalSince(delivery.createdAt) >= retryWindow
        logger.warning(
            giveUp ? "Gave up on a webhook after its retry window" : "A webhook attempt failed; it will be retried",
            metadata: [
                "webhook_id": .string(delivery.id), "partner_id": .string(partner.id), "attempt": "\(attempt)",
                "error": .string(error),
            ]
        )
        Telemetry.webhookDelivered(type: delivery.type, outcome: giveUp ? "gave_up" : "failed")
        try await store.recordWebhookAttemptFailed(
            id: delivery.id,
            status: status,
            error: error,
            retryAt: giveUp ? nil : now.addingTimeInterval(wait),
            now: now,
            audit: giveUp
                ? AuditEventRecord(
                    occurredAt: now,
                    actor: .system,
                    action: .webhookEndpointFailing,
                    merchantId: delivery.merchantId,
                    detail: "partner=\(partner.id) webhook=\(delivery.id) type=\(delivery.type) attempts=\(attempt) last=\(error)"
                ) : nil
        )
    }
}
