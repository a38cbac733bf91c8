import Foundation
import Logging

/// What `square-onboard check-status` does: one status sweep with the service's configuration, a line per connection.
package enum StatusCheckOperation {
    /// Runs one sweep over the due connections (or checks `merchantId`'s now); true when Square answered every check.
    package static func run(
        configuration: AppConfiguration,
        merchantId: String?,
        logger: Logger,
        output: @escaping @Sendable (String) -> Void,
        progress: @escaping @Sendable (OperationProgress) -> Void
    ) async throws -> Bool {
        let services = try await AppServices.open(configuration: configuration, logger: logger)
        let report = try await run(services: services, merchantId: merchantId, output: output, progress: progress)
        return report.unknown == 0 && !(merchantId != nil && report.chosen == 0)
    }

    /// The sweep itself, printing one line per connection and the summary; separate so tests can pass their services.
    static func run(
        services: AppServices,
        merchantId: String?,
        output: @escaping @Sendable (String) -> Void,
        progress: @escaping @Sendable (OperationProgress) -> Void
    ) async throws -> StatusSweepReport {
        guard let merchantId else {
            let report = try await services.checker.sweep(
                actor: .cli,
                progress: { done, total in
                    progress(
                        OperationProgress.connections(done: done, total: total)
                    )
                },
                onResult: { id, merchant, outcome in output("\(merchant ?? "connection \(id)"): \(describe(outcome))") }
            )
            output(report.summary)
            return report
        }
        var report = StatusSweepReport()
        let environment = services.configuration.environmentIdentity
        if let id = try await services.store.connection(environment: environment, merchantId: merchantId)?.id {
            report.chosen = 1
            // A check someone asked for: in the audit log with its actor, whatever Square says.
            let outcome = await services.checker.check(connectionId: id, actor: .cli)
            report.count(outcome)
            output("\(merchantId): \(describe(outcome))")
        } else {
            output("no connection for merchant \(merchantId)")
        }
        output(report.summary)
        return report
    }

    static func describe(_ outcome: TokenStatusChecker.Outcome) -> String {
        switch outcome {
        case .valid(let scopes, let expiresAt):
            "valid until \(expiresAt?.formatted(.iso8601) ?? "an unknown time"); scopes \(scopes.isEmpty ? "none" : scopes.joined(separator: " "))"
        case .expired: "access token expired; the next refresh pass renews it"
        case .revoked: "revoked at Square; marked revoked"
        case .needsReauth(let reason): "needs re-authorization: \(reason)"
        case .unknown(let reason): "not answered, nothing changed: \(reason)"
        case .notCheckable(let status): "skipped: connection is \(status.rawValue)"
        case .notFound: "skipped: connection no longer exists"
        }
    }
}
