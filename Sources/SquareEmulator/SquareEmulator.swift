import Foundation
import Hummingbird
import Logging
import NIOCore
import OnboardCrypto
import SquareOAuth
import Synchronization

/// An in-memory Square that speaks the OAuth endpoints on loopback, with a movable clock and injectable faults.
public final class SquareEmulator: Sendable {
    /// Counts the emulator reports about itself; never tokens.
    public struct Snapshot: Sendable, Codable, Equatable {
        public var now: String
        public var clockOffsetSeconds: Double
        public var merchants: [EmulatedMerchant]
        public var activeAuthorizations: Int
        public var faults: [EmulatorFault]
        public var calls: [String: Int]
        /// The subscription's URL; its signature key is never reported.
        public var webhookNotificationURL: String?
        public var webhookDeliveries: [EmulatorWebhookDelivery]

        enum CodingKeys: String, CodingKey {
            case now
            case clockOffsetSeconds = "clock_offset_seconds"
            case merchants
            case activeAuthorizations = "active_authorizations"
            case faults, calls
            case webhookNotificationURL = "webhook_notification_url"
            case webhookDeliveries = "webhook_deliveries"
        }
    }

    /// Called when an authorization ends (`APPLICATION` via RevokeToken, `MERCHANT` from the seller's side).
    public typealias RevocationListener = @Sendable (_ merchantId: String, _ revokerType: String, _ at: Date) -> Void

    private let store: Mutex<EmulatorStore>
    private let listeners = Mutex<[RevocationListener]>([])
    private let webhooks: EmulatorWebhookSender
    public let application: EmulatedApplication
    let logger: Logger

    public init(
        application: EmulatedApplication,
        merchants: [EmulatedMerchant] = EmulatedMerchant.seeds,
        lifetimes: EmulatorLifetimes = EmulatorLifetimes(),
        webhook: EmulatorWebhookSubscription? = nil,
        logger: Logger = Logger(label: "square-emulator")
    ) {
        self.application = application
        self.logger = logger
        self.webhooks = EmulatorWebhookSender(subscription: webhook, logger: logger)
        self.store = Mutex(EmulatorStore(application: application, lifetimes: lifetimes, merchants: merchants))
    }

    /// The emulator's routes on a fresh router.
    public func buildRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        EmulatorRoutes(emulator: self).add(to: router)
        return router
    }

    /// The service that delivers webhooks; run it beside `buildRouter()` in your own application's service group.
    public var webhookService: EmulatorWebhookService { EmulatorWebhookService(sender: webhooks) }

    /// A Hummingbird application serving the emulator; port 0 picks a free port, reported to `onServerRunning`.
    ///
    /// Its service group runs `webhookService`: webhooks go out only while the application runs.
    public func makeApplication(
        host: String = "127.0.0.1",
        port: Int = 0,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "square-emulator"),
            services: [webhookService],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    // MARK: Controls for tests and the control API

    /// The emulator's current time (real time plus every `advanceClock`).
    public var now: Date { store.withLock { Date().addingTimeInterval($0.clockOffset) } }

    /// Moves the emulator's clock forward: codes and tokens age without waiting.
    public func advanceClock(by seconds: TimeInterval) {
        store.withLock { $0.clockOffset += max(0, seconds) }
    }

    /// Installs a fault; the newest matching fault wins.
    public func inject(_ fault: EmulatorFault) {
        store.withLock { $0.faults.insert(fault, at: 0) }
    }

    /// Removes every fault.
    public func clearFaults() {
        store.withLock { $0.faults.removeAll() }
    }

    /// How many requests reached `path` (faulted ones included).
    public func callCount(path: String) -> Int {
        store.withLock { $0.callCounts[path] ?? 0 }
    }

    /// The most requests to `path` that were being answered at the same moment (faulted ones and their delays included).
    public func peakConcurrentCalls(path: String) -> Int {
        store.withLock { $0.peakCallsInFlight[path] ?? 0 }
    }

    /// How many calls to `path` have been processed (the work is done) and have their answer held back by a latency fault.
    public func answersHeldBack(path: String) -> Int {
        store.withLock { $0.answersHeldBack[path] ?? 0 }
    }

    /// Counts an answer to `path` held back (`delta` 1) or let go (`-1`).
    func trackHeldAnswer(path: String, delta: Int) {
        store.withLock { $0.answersHeldBack[path, default: 0] += delta }
    }

    /// Marks a call to `path` as being answered (`delta` 1) or answered (`-1`), keeping the peak.
    func trackInFlight(path: String, delta: Int) {
        store.withLock { store in
            let now = store.callsInFlight[path, default: 0] + delta
            store.callsInFlight[path] = now
            store.peakCallsInFlight[path] = max(store.peakCallsInFlight[path] ?? 0, now)
        }
    }

    /// Sellers that can sign in on the consent page.
    public var merchants: [EmulatedMerchant] { store.withLock { $0.merchants } }

    /// Whether the merchant's authorization of the application is active.
    public func isAuthorized(merchantId: String) -> Bool {
        store.withLock { $0.grants[merchantId].map { $0.revokedAt == nil } ?? false }
    }

    /// Creates a legacy token that ObtainToken's `migration_token` grant accepts once.
    public func issueMigrationToken(merchantId: String, scopes: [String]) -> String {
        let token = "sq0atp-" + SecureRandom.token(length: 22, alphabet: SquareIdentifiers.alphanumerics)
        store.withLock { $0.migrationTokens[token] = MigrationTokenRecord(merchantId: merchantId, scopes: scopes) }
        return token
    }

    /// The seller disconnects the application from their Square dashboard; false when nothing was active.
    @discardableResult
    public func revokeAsMerchant(merchantId: String) -> Bool {
        let ended = store.withLock { store in
            store.revokeAll(merchantId: merchantId, includingRefreshTokens: true, now: Date().addingTimeInterval(store.clockOffset))
        }
        if ended { authorizationEnded(merchantId: merchantId, revoker: "MERCHANT") }
        return ended
    }

    /// Registers a listener for ended authorizations (the revocation webhook builds on it).
    public func onRevocation(_ listener: @escaping RevocationListener) {
        listeners.withLock { $0.append(listener) }
    }

    /// Sets where `oauth.authorization.revoked` webhooks go; nil stops sending them.
    public func setWebhookSubscription(_ subscription: EmulatorWebhookSubscription?) {
        webhooks.subscription = subscription
    }

    /// The URL webhooks currently go to, if any.
    public var webhookNotificationURL: String? { webhooks.subscription?.notificationURL }

    /// Every webhook event sent or being sent, oldest first.
    public var webhookDeliveries: [EmulatorWebhookDelivery] { webhooks.deliveries }

    /// Waits until `count` webhook deliveries are finished (delivered, out of attempts, or abandoned because the
    /// emulator stopped) or `timeout` passes; returns the log.
    public func waitForWebhookDeliveries(count: Int, timeout: Duration) async -> [EmulatorWebhookDelivery] {
        await webhooks.waitForDeliveries(count: count, timeout: timeout)
    }

    /// A summary of the emulator's state.
    public func snapshot() -> Snapshot {
        let notificationURL = webhookNotificationURL
        let deliveries = webhookDeliveries
        return store.withLock { store in
            Snapshot(
                now: Date().addingTimeInterval(store.clockOffset).rfc3339,
                clockOffsetSeconds: store.clockOffset,
                merchants: store.merchants,
                activeAuthorizations: store.grants.values.filter { $0.revokedAt == nil }.count,
                faults: store.faults,
                calls: store.callCounts,
                webhookNotificationURL: notificationURL,
                webhookDeliveries: deliveries
            )
        }
    }

    // MARK: Internal

    func withStore<T>(_ body: (inout EmulatorStore, Date) -> T) -> T {
        store.withLock { store in body(&store, Date().addingTimeInterval(store.clockOffset)) }
    }

    func authorizationEnded(merchantId: String, revoker: String) {
        let at = now
        logger.info("Authorization ended", metadata: ["merchant_id": .string(merchantId), "revoker": .string(revoker)])
        for listener in listeners.withLock({ $0 }) { listener(merchantId, revoker, at) }
        webhooks.authorizationEnded(merchantId: merchantId, revokerType: revoker, at: at)
    }

    /// Counts the call and returns the fault to apply, using up one of its count.
    func takeFault(forPath path: String) -> EmulatorFault? {
        store.withLock { store in
            if path.hasPrefix("/oauth2/") { store.callCounts[path, default: 0] += 1 }
            guard let index = store.faults.firstIndex(where: { $0.matches(path: path) }) else { return nil }
            let fault = store.faults[index]
            if let count = fault.count {
                if count <= 1 { store.faults.remove(at: index) } else { store.faults[index].count = count - 1 }
            }
            return fault
        }
    }
}
