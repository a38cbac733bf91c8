import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Whether a graceful shutdown has begun: `/readyz` then answers "draining" and the refresher starts nothing new.
final class DrainState: Sendable {
    private let began = Mutex<ContinuousClock.Instant?>(nil)

    var isDraining: Bool { began.withLock { $0 != nil } }

    /// When the shutdown began, or nil.
    var beganAt: ContinuousClock.Instant? { began.withLock { $0 } }

    /// Marks the shutdown begun; true for the first caller only.
    func begin() -> Bool {
        began.withLock { instant in
            guard instant == nil else { return false }
            instant = .now
            return true
        }
    }
}

/// The HTTP application with a graceful shutdown. The moment one is asked for (SIGTERM or SIGINT under `serve` and
/// `demo`) it is draining: `/readyz` answers 503 and the refresher starts nothing new. After `drainDelay` (time for a
/// load balancer to notice) Hummingbird stops accepting connections and finishes the requests in progress, the
/// token-life service finishes the refreshes it started, and only then does `run` return.
///
/// The application and a `DrainService` run in one `ServiceGroup`; a group shuts its services down in reverse order,
/// so the drain (listed last) is shut down first and holds the server's shutdown back for the delay.
struct OnboardingApplication<Base: ApplicationProtocol>: ApplicationProtocol {
    typealias Responder = Base.Responder
    let base: Base
    let drain: DrainState
    let drainDelay: Duration

    var responder: Base.Responder { get async throws { try await base.responder } }
    var server: HTTPServerBuilder { base.server }
    var eventLoopGroup: any EventLoopGroup { base.eventLoopGroup }
    var configuration: ApplicationConfiguration { base.configuration }
    var logger: Logger { base.logger }
    func onServerRunning(_ channel: any Channel) async { await base.onServerRunning(channel) }
    var services: [any Service] { base.services }
    var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { base.processesRunBeforeServerStart }

    /// Runs the server and the background services until they have all stopped.
    func run() async throws {
        let group = ServiceGroup(
            configuration: .init(services: [base, DrainService(drain: drain, delay: drainDelay, logger: logger)], logger: logger)
        )
        try await group.run()
        if let began = drain.beganAt {
            let milliseconds = Int((ContinuousClock.now - began) / .milliseconds(1))
            logger.notice("Drained: every request and refresh in progress finished", metadata: ["duration_ms": "\(milliseconds)"])
        }
    }
}

/// Waits for the graceful shutdown, marks the service draining, and returns after the drain delay, letting the
/// group shut the server down next.
struct DrainService: Service {
    let drain: DrainState
    let delay: Duration
    let logger: Logger

    func run() async throws {
        // Cancelled rather than shut down: nothing to drain for.
        try await gracefulShutdown()
        guard drain.begin() else { return }
        logger.notice(
            "Shutting down: /readyz says draining; no new connections after the drain delay; finishing what is in progress",
            metadata: ["drain_delay_s": "\(delay.components.seconds)"]
        )
        try? await Task.sleep(for: delay)
    }
}
