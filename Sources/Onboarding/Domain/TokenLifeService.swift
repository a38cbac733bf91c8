import Foundation
import Logging
import ServiceLifecycle

/// The background half of token life, run in the app's service group: refresh passes and status sweeps.
struct TokenLifeService: Service {
    let refresher: TokenRefresher
    let checker: TokenStatusChecker
    let logger: Logger

    /// Runs a pass every interval until shutdown; a graceful shutdown lets refreshes in flight finish.
    func run() async throws {
        let settings = refresher.settings
        var nextSweep = ContinuousClock.now
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
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.interval) }
        }
    }
}
