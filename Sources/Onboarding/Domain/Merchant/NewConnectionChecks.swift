import Logging
import ServiceLifecycle
import Synchronization

/// Asks Square for a new connection's token status (its granted scopes) after the merchant has had their answer.
///
/// The callback queues the connection and returns; this service runs at most `concurrency` checks at a time from a
/// queue of at most `queueLimit`. On a graceful shutdown it takes nothing new, starts what is queued for up to
/// `drainLimit`, and lets the checks it started finish (each is bounded by the Square timeout). A connection that does
/// not get its check here — the queue was full, the drain ran out, the process was killed — stays never checked, and
/// the status sweep (`TokenStatusChecker.sweep`) checks it.
final class NewConnectionChecks: Service, Sendable {
    let checker: TokenStatusChecker
    let concurrency: Int
    let drainLimit: Duration
    let logger: Logger
    /// When a graceful shutdown began; queued checks are started only for `drainLimit` after it.
    private let shutdownStarted = Mutex<ContinuousClock.Instant?>(nil)
    private let queue: AsyncStream<Int64>
    private let continuation: AsyncStream<Int64>.Continuation

    init(
        checker: TokenStatusChecker,
        queueLimit: Int = 4096,
        concurrency: Int = 32,
        drainLimit: Duration = .seconds(5),
        logger: Logger
    ) {
        precondition(queueLimit > 0 && concurrency > 0, "the queue and the concurrency must be positive")
        self.checker = checker
        self.concurrency = concurrency
        self.drainLimit = drainLimit
        self.logger = logger
        (queue, continuation) = AsyncStream.makeStream(of: Int64.self, bufferingPolicy: .bufferingOldest(queueLimit))
    }

    /// Queues a check of the connection; false when it is left to the sweep (queue full, service stopped).
    @discardableResult
    func enqueue(connectionId: Int64) -> Bool {
        switch continuation.yield(connectionId) {
        case .enqueued: return true
        case .dropped:
            logger.debug("Status check queue full: the sweep will check the connection", metadata: ["connection_id": "\(connectionId)"])
            return false
        case .terminated: return false
        @unknown default: return false
        }
    }

    /// Runs queued checks until shutdown; a graceful shutdown closes the queue and drains it for up to `drainLimit`.
    func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var limit = ConcurrencyLimit(concurrency)
                for await connectionId in queue {
                    if let started = shutdownStarted.withLock({ $0 }), ContinuousClock.now - started > drainLimit {
                        logger.notice("Shutting down: the status sweep will check the connections still queued")
                        break
                    }
                    await limit.waitForSlot(in: &group)
                    limit.add(to: &group) { _ = await self.checker.check(connectionId: connectionId, actor: .system) }
                }
            }
        } onGracefulShutdown: {
            self.shutdownStarted.withLock { $0 = .now }
            self.continuation.finish()
        }
    }
}
