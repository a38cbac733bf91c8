import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SquareOAuth
import Synchronization

/// Where the emulator sends Square's webhooks; the signature key is a secret and never shows in descriptions.
public struct EmulatorWebhookSubscription: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Attempts per event, the first included, as Square makes.
    public static let maxAttempts = 3

    public var notificationURL: String
    public var signatureKey: String
    /// The wait before the first retry; each later retry waits twice as long.
    public var retryBackoff: Duration
    /// How long one attempt may take; AsyncHTTPClient keeps retrying a refused connection until then.
    public var attemptTimeout: Duration

    /// A subscription with Square's timing unless a test asks for faster retries.
    public init(
        notificationURL: String,
        signatureKey: String,
        retryBackoff: Duration = .milliseconds(500),
        attemptTimeout: Duration = .seconds(10)
    ) {
        self.notificationURL = notificationURL
        self.signatureKey = signatureKey
        self.retryBackoff = retryBackoff
        self.attemptTimeout = attemptTimeout
    }

    /// Whether the notification URL is an absolute http(s) URL with a host.
    public var hasValidNotificationURL: Bool {
        guard let url = URL(string: notificationURL), let scheme = url.scheme?.lowercased() else { return false }
        return ["http", "https"].contains(scheme) && !(url.host ?? "").isEmpty
    }

    public var description: String { "EmulatorWebhookSubscription(notificationURL: \(notificationURL), signatureKey: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["notificationURL": notificationURL]) }
}

/// One webhook event the emulator sent or tried to send.
public struct EmulatorWebhookDelivery: Sendable, Codable, Equatable {
    public var eventId: String
    public var merchantId: String
    /// `MERCHANT` or `APPLICATION`.
    public var revokerType: String
    public var attempts: Int
    public var lastStatus: Int?
    public var delivered: Bool
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case eventId = "event_id"
        case merchantId = "merchant_id"
        case revokerType = "revoker_type"
        case attempts
        case lastStatus = "last_status"
        case delivered
        case lastError = "last_error"
    }

    /// Delivered, or out of attempts.
    var isFinished: Bool { delivered || attempts >= EmulatorWebhookSubscription.maxAttempts }
}

/// Square's `oauth.authorization.revoked` event.
struct RevocationEvent {
    var merchantId: String
    var revokerType: String
    var eventId = UUID().uuidString.lowercased()
    var dataId = UUID().uuidString.lowercased()
    var at: Date

    /// The raw body, fields in Square's order (`JSONEncoder` leaves key order unspecified).
    var body: ByteBuffer {
        let timestamp = Self.quoted(at.rfc3339)
        return ByteBuffer(
            string: #"{"merchant_id":\#(Self.quoted(merchantId)),"type":"oauth.authorization.revoked","#
                + #""event_id":"\#(eventId)","created_at":\#(timestamp),"#
                + #""data":{"type":"revocation","id":"\#(dataId)","#
                + #""object":{"revocation":{"revoked_at":\#(timestamp),"revoker_type":\#(Self.quoted(revokerType))}}}}"#
        )
    }

    private static func quoted(_ value: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}

/// Holds the subscription and the delivery log, and delivers events with Square's retries.
final class EmulatorWebhookSender: Sendable {
    private struct State {
        var subscription: EmulatorWebhookSubscription?
        var deliveries: [EmulatorWebhookDelivery] = []
    }

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

    /// Logs the event and starts delivering it in the background; does nothing without a subscription.
    func authorizationEnded(merchantId: String, revokerType: String, at: Date) {
        let event = RevocationEvent(merchantId: merchantId, revokerType: revokerType, at: at)
        let subscription: EmulatorWebhookSubscription? = state.withLock { state in
            guard let subscription = state.subscription else { return nil }
            state.deliveries.append(
                EmulatorWebhookDelivery(
                    eventId: event.eventId,
                    merchantId: merchantId,
                    revokerType: revokerType,
                    attempts: 0,
                    delivered: false
                )
            )
            return subscription
        }
        guard let subscription else { return }
        Task { await self.deliver(eventId: event.eventId, body: event.body, to: subscription, initialDeliveryAt: at) }
    }

    /// Sends the same event id and body until a 2xx answer or `maxAttempts`.
    private func deliver(eventId: String, body: ByteBuffer, to subscription: EmulatorWebhookSubscription, initialDeliveryAt: Date) async {
        let signature = WebhookSignature.signature(
            signatureKey: subscription.signatureKey,
            notificationURL: subscription.notificationURL,
            body: body.readableBytesView
        )
        var request = HTTPClientRequest(url: subscription.notificationURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: WebhookSignature.headerName, value: signature)
        request.headers.add(name: "square-environment", value: "Sandbox")
        request.headers.add(name: "square-initial-delivery-timestamp", value: initialDeliveryAt.rfc3339)
        request.body = .bytes(body)

        for attempt in 0..<EmulatorWebhookSubscription.maxAttempts {
            if attempt > 0 {
                try? await Task.sleep(for: subscription.retryBackoff * (1 << (attempt - 1)))
            }
            request.headers.replaceOrAdd(name: "square-retry-number", value: String(attempt))
            var status: Int?
            var failure: String?
            do {
                let response = try await httpClient.execute(request, timeout: TimeAmount(subscription.attemptTimeout))
                status = Int(response.status.code)
                _ = try? await response.body.collect(upTo: 1 << 20)
            } catch {
                failure = String(describing: error)
            }
            let delivered = status.map { (200..<300).contains($0) } ?? false
            record(eventId: eventId, status: status, error: failure, delivered: delivered)
            logger.info(
                delivered ? "Webhook delivered" : "Webhook attempt failed",
                metadata: [
                    "event_id": .string(eventId),
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
