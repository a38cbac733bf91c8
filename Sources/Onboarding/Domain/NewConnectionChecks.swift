import Logging
import ServiceLifecycle

/// Asks Square for a new connection's token status (its granted scopes) after the merchant has had their answer.
///
/// The callback queues the connection and returns; this service runs at most `concurrency` checks at a time from a
/// queue of at most `queueLimit`. On a graceful shutdown it takes nothing new and finishes what is queued (each check
/// is bounded by the Square timeout). A connection that does not get its check here — the queue was full, the process
/// was killed — stays never checked, and the status sweep (`TokenStatusChecker.sweep`) checks it.
final class NewConnectionChecks: Service, Sendable {
    let checker: TokenStatusChecker
    let concurrency: Int
    let logger: Logger
    private let queue: AsyncStream<Int64>
    private let continuation: AsyncStream<Int64>.Continuation

    init(checker: TokenStatusChecker, queueLimit: Int = 4096, concurrency: Int = 32, logger: Logger) {
        precondition(queueLimit > 0 && concurrency > 0, "the queue and the concurrency must be positive")
        self.checker = checker
        self.concurrency = concurrency
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

    /// Runs queued checks until shutdown; a graceful shutdown closes the queue and finishes the checks in it.
    func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for await connectionId in queue {
                    if running == concurrency {
                        await group.next()
                        running -= 1
                    }
                    group.addTask { _ = await self.checker.check(connectionId: connectionId, actor: .system) }
                    running += 1
                }
            }
        } onGracefulShutdown: { [continuation] in
            continuation.finish()
        }
    }
}
