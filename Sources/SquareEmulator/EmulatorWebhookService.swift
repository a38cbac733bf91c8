import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SquareOAuth
import Synchronization

/// Delivers the emulator's webhooks for as long as it runs; when it stops, every pending attempt and retry ends.
///
/// `SquareEmulator.makeApplication` runs it in the application's service group. Events that end before it
/// starts wait for it; events that end after it stopped are logged as abandoned and never sent.
public struct EmulatorWebhookService: Service {
    let sender: EmulatorWebhookSender

    /// Delivers events until the application's graceful shutdown or cancellation.
    public func run() async throws {
        await sender.run()
    }
}

/// One event on its way to one subscription.
struct WebhookJob: Sendable {
    var eventId: String
    var body: ByteBuffer
    var subscription: EmulatorWebhookSubscription
    var initialDeliveryAt: Date
}

/// Holds the subscription and the delivery log, and delivers events with Square's retries while its service runs.
final class EmulatorWebhookSender: Sendable {
    /// What becomes of a new event: it waits for the first run, goes to the running one, or is abandoned.
    private enum Dispatch {
        case waiting([WebhookJob])
        case running(AsyncStream<WebhookJob>.Continuation)
        case stopped
    }

    private struct State {
        var subscription: EmulatorWebhookSubscription?
        var deliveries: [EmulatorWebhookDelivery] = []
        var dispatch = Dispatch.waiting([])
    }

    static let stoppedError = "the emulator stopped; nothing more is sent for this event"

    private let state: Mutex<State>
    private let httpClient: HTTPClient
    private let logger: Logger

    init(subscription: EmulatorWebhookSubscription?, httpClient: HTTPClient = .shared, logger: Logger) {
        self.state = Mutex(State(subscription: subscription))
        self.httpClient = httpClient
        self.logger = logger
    }

    var subscription: EmulatorWebhookSubscription? {
        get { state.withLock { $0.subscription } }
        set { state.withLock { $0.subscription = newValue } }
    }

    var deliveries: [EmulatorWebhookDelivery] { state.withLock { $0.deliveries } }

    /// Logs the event and hands it to the running service; does nothing without a subscription.
    func authorizationEnded(merchantId: String, revokerType: String, at: Date) {
        let event = RevocationEvent(merchantId: merchantId, revokerType: revokerType, at: at)
        let body = event.body
        state.withLock { state in
            guard let subscription = state.subscription else { return }
            var delivery = EmulatorWebhookDelivery(
                eventId: event.eventId,
                merchantId: merchantId,
                revokerType: revokerType,
                attempts: 0,
                delivered: false
            )
            let job = WebhookJob(eventId: event.eventId, body: body, subscription: subscription, initialDeliveryAt: at)
            switch state.dispatch {
            case .waiting(let jobs):
                state.dispatch = .waiting(jobs + [job])
            case .running(let inbox):
                inbox.yield(job)
            case .stopped:
                delivery.abandoned = true
                delivery.lastError = Self.stoppedError
            }
            state.deliveries.append(delivery)
        }
    }

    /// Delivers events until graceful shutdown or cancellation, then abandons whatever is unfinished.
    func run() async {
        let (jobs, inbox) = AsyncStream.makeStream(of: WebhookJob.self)
        let started = state.withLock { state in
            switch state.dispatch {
            case .running:
                return false
            case .waiting(let pending):
                for job in pending { inbox.yield(job) }
            case .stopped:
                break
            }
            state.dispatch = .running(inbox)
            return true
        }
        guard started else {
            logger.error("The emulator's webhook service is already running; this second one sends nothing")
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await job in jobs {
                    group.addTask { await self.deliver(job) }
                }
            }
        }
        inbox.finish()
        let abandoned = state.withLock { state in
            state.dispatch = .stopped
            var count = 0
            for index in state.deliveries.indices where !state.deliveries[index].isFinished {
                state.deliveries[index].abandoned = true
                state.deliveries[index].lastError = Self.stoppedError
                count += 1
            }
            return count
        }
        if abandoned > 0 {
            logger.info("Webhook deliveries stopped before they finished", metadata: ["abandoned": .stringConvertible(abandoned)])
        }
    }

    /// Sends the same event id and body until a 2xx answer, `maxAttempts`, or cancellation.
    private func deliver(_ job: WebhookJob) async {
        let signature = WebhookSignature.signature(
            signatureKey: job.subscription.signatureKey,
            notificationURL: job.subscription.notificationURL,
            body: job.body.readableBytesView
        )
        var request = HTTPClientRequest(url: job.subscription.notificationURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: WebhookSignature.headerName, value: signature)
        request.headers.add(name: "square-environment", value: "Sandbox")
        request.headers.add(name: "square-initial-delivery-timestamp", value: job.initialDeliveryAt.rfc3339)
        request.body = .bytes(job.body)

        for attempt in 0..<EmulatorWebhookSubscription.maxAttempts {
            if attempt > 0 {
                do {
                    try await Task.sleep(for: job.subscription.retryBackoff * (1 << (attempt - 1)))
                } catch {
                    return
                }
            }
            guard !Task.isCancelled else { return }
            request.headers.replaceOrAdd(name: "square-retry-number", value: String(attempt))
            var status: Int?
            var failure: String?
            do {
                let response = try await httpClient.execute(request, timeout: TimeAmount(job.subscription.attemptTimeout))
                status = Int(response.status.code)
                _ = try? await response.body.collect(upTo: 1 << 20)
            } catch {
                failure = String(describing: error)
            }
            let delivered = status.map { (200..<300).contains($0) } ?? false
            record(eventId: job.eventId, status: status, error: failure, delivered: delivered)
            logger.info(
                delivered ? "Webhook delivered" : "Webhook attempt failed",
                metadata: [
                    "event_id": .string(job.eventId),
                    "retry_number": .stringConvertible(attempt),
                    "status": .string(status.map(String.init) ?? "none"),
                ]
            )
            if delivered { return }
        }
    }

    private func record(eventId: String, status: Int?, error: String?, delivered: Bool) {
        state.withLock { state in
            guard let index = state.deliveries.firstIndex(where: { $0.eventId == eventId }) else { return }
            state.deliveries[index].attempts += 1
            state.deliveries[index].lastStatus = status
            state.deliveries[index].lastError = error
            state.deliveries[index].delivered = delivered
        }
    }

    /// Polls the log until `count` deliveries are finished or `timeout` passes.
    func waitForDeliveries(count: Int, timeout: Duration) async -> [EmulatorWebhookDelivery] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let deliveries = self.deliveries
            if deliveries.filter(\.isFinished).count >= count { return deliveries }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return deliveries
    }
}
