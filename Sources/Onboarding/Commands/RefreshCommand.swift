import Foundation
import Logging

/// `square-onboard refresh`: one refresh pass from the command line, with the service's configuration.
enum RefreshCommand {
    static let usage = """
        Usage: square-onboard refresh [--all-due | --merchant MERCHANT_ID] [service flags…]
          --all-due        refresh every connection that is due (the default)
          --merchant ID    refresh this merchant's connection now, due or not
        Reads the same configuration as 'serve' (flags, environment, .env). Safe beside a running service:
        rows are leased, so no connection is refreshed twice at once.
        Exit status: 0 when every chosen connection was refreshed or skipped, 1 when any failed or needs re-authorization.
        """

    /// The command's own flags, split from the configuration flags.
    struct Options: Equatable {
        var merchantId: String?
        var configurationArguments: [String]

        init(arguments: [String]) throws {
            var rest: [String] = []
            var iterator = arguments.makeIterator()
            while let argument = iterator.next() {
                switch argument {
                case "--all-due": continue
                case "--merchant":
                    guard let value = iterator.next(), !value.isEmpty, !value.hasPrefix("--"), value.utf8.count <= 64 else {
                        throw CommandError.invalidValue(key: "--merchant", reason: "needs a Square merchant id")
                    }
                    merchantId = value
                default: rest.append(argument)
                }
            }
            if merchantId != nil && arguments.contains("--all-due") {
                throw CommandError.invalidValue(key: "--merchant", reason: "and --all-due cannot be used together")
            }
            configurationArguments = rest
        }
    }

    /// Runs one pass; returns the exit status.
    static func run(arguments: [String], logger: Logger) async throws -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            Console.line(usage)
            return 0
        }
        let options = try Options(arguments: arguments)
        let reader = try await AppConfiguration.standardReader(arguments: ["refresh"] + options.configurationArguments)
        var logger = logger
        logger.logLevel = .warning
        let services = try await AppServices.open(configuration: try AppConfiguration(reader: reader), logger: logger)
        let report = try await run(services: services, merchantId: options.merchantId, output: Console.line, progress: Console.error)
        return report.refreshed + report.skipped == report.results.count && !(options.merchantId != nil && report.chosen == 0) ? 0 : 1
    }

    /// The pass itself, printing one line per connection and a progress line; separate so tests can call it.
    static func run(
        services: AppServices,
        merchantId: String?,
        output: @escaping @Sendable (String) -> Void,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> RefreshPassReport {
        let report = try await services.refresher.runPass(
            merchantId: merchantId,
            actor: .cli,
            progress: { done, total in
                if total > 0 && (done == total || done % 10 == 0) { progress("progress: \(done)/\(total) connections") }
            }
        )
        if let merchantId, report.chosen == 0 { output("no connection for merchant \(merchantId)") }
        for (merchant, outcome) in report.results { output("\(merchant): \(describe(outcome))") }
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
