import Foundation
import Logging
import ServiceLifecycle

/// The background half of token life, run in the app's service group: refresh passes, status and retention sweeps.
struct TokenLifeService: Service {
    let refresher: TokenRefresher
    let checker: TokenStatusChecker
    let retention: RetentionSweeper
    let logger: Logger
    /// Set the moment the application's shutdown begins, before this service's own turn to stop comes.
    var drain = DrainState()

    /// Whether to start nothing new: a graceful shutdown of this service or of the application has begun.
    private var stopping: Bool { Task.isShuttingDownGracefully || drain.isDraining }

    /// Runs a pass every interval until shutdown; a graceful shutdown lets refreshes in flight finish.
    func run() async throws {
        let settings = refresher.settings
        var nextSweep = ContinuousClock.now
        var nextRetention = ContinuousClock.now
        while !stopping && !Task.isCancelled {
            do {
                let report = try await refresher.runPass(shouldStop: { stopping })
                if report.chosen > 0 { logger.info("Refresh pass: \(report.summary)") }
            } catch {
                logger.error("Refresh pass failed", metadata: ["error": "\(error)"])
            }
            if ContinuousClock.now >= nextSweep && !stopping {
                do {
                    _ = try await checker.sweep(shouldStop: { stopping })
                } catch {
                    logger.error("Status sweep failed", metadata: ["error": "\(error)"])
                }
                nextSweep = ContinuousClock.now + .seconds(min(settings.statusCheckInterval / 4, 3600))
            }
            if ContinuousClock.now >= nextRetention && !stopping {
                do {
                    _ = try await retention.sweep(shouldStop: { stopping })
                } catch {
                    logger.error("Retention sweep failed", metadata: ["error": "\(error)"])
                }
                nextRetention = ContinuousClock.now + .seconds(3600)
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.interval) }
        }
    }
}
