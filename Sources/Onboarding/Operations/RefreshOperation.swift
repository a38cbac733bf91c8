import Foundation
import Logging

/// What `square-onboard refresh` does: one refresh pass with the service's configuration, a line per connection.
package enum RefreshOperation {
    /// Runs one pass over the due connections (or `merchantId`'s, due or not); true when every one was refreshed or skipped.
    package static func run(
        configuration: AppConfiguration,
        merchantId: String?,
        logger: Logger,
        output: @escaping @Sendable (String) -> Void,
        progress: @escaping @Sendable (OperationProgress) -> Void
    ) async throws -> Bool {
        let services = try await AppServices.open(configuration: configuration, logger: logger)
        let report = try await run(services: services, merchantId: merchantId, output: output, progress: progress)
        return report.needsReauth + report.retryLater == 0 && !(merchantId != nil && report.chosen == 0)
    }

    /// The pass itself, printing a line per connection as it finishes, then the summary; separate so tests can pass
    /// their services.
    static func run(
        services: AppServices,
        merchantId: String?,
        output: @escaping @Sendable (String) -> Void,
        progress: @escaping @Sendable (OperationProgress) -> Void
    ) async throws -> RefreshPassReport {
        let report = try await services.refresher.runPass(
            merchantId: merchantId,
            actor: .cli,
            onResult: { merchant, outcome in output("\(merchant): \(describe(outcome))") },
            progress: { done, total in
                guard total > 0 else { return }
                progress(
                    OperationProgress.connections(done: done, total: total)
                )
            }
        )
        if let merchantId, report.chosen == 0 { output("no connection for merchant \(merchantId)") }
        output(report.summary)
        return report
    }

    static func describe(_ outcome: TokenRefresher.Outcome) -> String {
        switch outcome {
        case .refreshed(let expiresAt): "refreshed; access token valid until \(expiresAt?.formatted(.iso8601) ?? "unknown")"
        case .notDue: "not due"
        case .busy: "skipped: another worker is refreshing it"
        case .needsReauth(let reason): "needs re-authorization: \(reason)"
        case .retryLater(let reason, let at): "failed, will retry after \(at.formatted(.iso8601)): \(reason)"
        case .notRefreshable(let status): "skipped: connection is \(status.rawValue)"
        case .notFound: "skipped: connection no longer exists"
        case .revokedMeanwhile: "skipped: revoked while refreshing"
        }
    }
}
