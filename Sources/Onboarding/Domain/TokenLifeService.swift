import Foundation
import Logging
import ServiceLifecycle

/// The background half of token life, run in the app's service group: refresh passes, status and retention sweeps.
struct TokenLifeService: Service {
    let refresher: TokenRefresher
    let checker: TokenStatusChecker
    let retention: RetentionSweeper
    let logger: Logger

    /// Runs a pass every interval until shutdown; a graceful shutdown lets refreshes in flight finish.
    func run() async throws {
        let settings = refresher.settings
        var nextSweep = ContinuousClock.now
        var nextRetention = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let report = try await refresher.runPass(shouldStop: { Task.isShuttingDownGracefully })
                if report.chosen > 0 { logger.info("Refresh pass: \(report.summary)") }
            } catch {
                logger.error("Refresh pass failed", metadata: ["error": "\(error)"])
            }
            if ContinuousClock.now >= nextSweep && !Task.isShuttingDownGracefully {
                let results = await checker.sweep(shouldStop: { Task.isShuttingDownGracefully })
                if !results.isEmpty { logger.info("Status sweep checked \(results.count) connection(s)") }
                nextSweep = ContinuousClock.now + .seconds(min(settings.statusCheckInterval / 4, 3600))
            }
            if ContinuousClock.now >= nextRetention && !Task.isShuttingDownGracefully {
                do {
                    _ = try await retention.sweep(shouldStop: { Task.isShuttingDownGracefully })
                } catch {
                    logger.error("Retention sweep failed", metadata: ["error": "\(error)"])
                }
                nextRetention = ContinuousClock.now + .seconds(3600)
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.interval) }
        }
    }
}
