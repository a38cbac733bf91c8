import Configuration
import Foundation
import Hummingbird
import Logging
import OnboardCrypto
import SquareEmulator

/// `square-onboard emulator`: runs the Square sandbox emulator alone on loopback.
public enum EmulatorCommand {
    /// Settings for a stand-alone emulator, read from flags (`--port`, `--client-id`, ...).
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var application: EmulatedApplication
        public var generatedSecret: Bool
        /// Where `oauth.authorization.revoked` webhooks go, from `--webhook-url` and `--webhook-signature-key`.
        public var webhook: EmulatorWebhookSubscription?

        /// Reads `host`, `port`, `clientId`, `clientSecret`, `redirectUrl`, `appName`, `webhookUrl` and `webhookSignatureKey`.
        public init(reader: ConfigReader) throws {
            host = reader.string(forKey: "host", default: "127.0.0.1")
            port = reader.int(forKey: "port", default: 8090)
            guard (0...65535).contains(port) else { throw CommandError.invalidValue(key: "--port", reason: "must be 0 to 65535") }
            let secret = reader.string(forKey: "clientSecret", isSecret: true)
            generatedSecret = secret == nil
            let redirect = reader.string(forKey: "redirectUrl", default: "http://127.0.0.1:8080/oauth/callback")
            guard let url = URL(string: redirect), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil
            else { throw CommandError.invalidValue(key: "--redirect-url", reason: "must be an absolute http(s) URL") }
            application = EmulatedApplication(
                name: reader.string(forKey: "appName", default: "square-onboard"),
                clientId: reader.string(forKey: "clientId", default: "sandbox-sq0idb-emulator"),
                clientSecret: secret ?? "sandbox-sq0csb-" + SecureRandom.urlSafeToken(byteCount: 24),
                redirectURL: redirect
            )
            webhook = try Self.webhook(reader: reader)
        }

        private static func webhook(reader: ConfigReader) throws -> EmulatorWebhookSubscription? {
            let url = reader.string(forKey: "webhookUrl")
            let key = reader.string(forKey: "webhookSignatureKey", isSecret: true)
            switch (url, key) {
            case (nil, nil):
                return nil
            case (let url?, let key?) where !key.isEmpty:
                let subscription = EmulatorWebhookSubscription(notificationURL: url, signatureKey: key)
                guard subscription.hasValidNotificationURL else {
                    throw CommandError.invalidValue(key: "--webhook-url", reason: "must be an absolute http(s) URL")
                }
                return subscription
            case (_?, _):
                throw CommandError.invalidValue(key: "--webhook-url", reason: "needs --webhook-signature-key as well")
            case (nil, _?):
                throw CommandError.invalidValue(key: "--webhook-signature-key", reason: "needs --webhook-url as well")
            }
        }
    }

    static let usage = """
        Usage: square-onboard emulator [--host 127.0.0.1] [--port 8090] [--client-id ID] [--client-secret SECRET]
                                       [--redirect-url URL] [--app-name NAME]
                                       [--webhook-url URL --webhook-signature-key KEY]
        Runs Square's OAuth endpoints (authorize, token, revoke, token/status, renew) in memory on loopback;
        with a webhook URL, every ended authorization is POSTed there as a signed oauth.authorization.revoked event.
        """

    /// Runs until SIGINT or SIGTERM.
    public static func run(arguments: [String], logger: Logger) async throws {
        if arguments.contains("--help") || arguments.contains("-h") {
            Console.line(usage)
            return
        }
        let settings = try Settings(reader: ConfigReader(provider: CommandLineArgumentsProvider(arguments: ["emulator"] + arguments)))
        let emulator = SquareEmulator(application: settings.application, webhook: settings.webhook, logger: logger)
        let app = emulator.makeApplication(host: settings.host, port: settings.port) { port in
            Console.line("Square sandbox emulator listening on http://\(settings.host):\(port)")
            Console.line("  client id:     \(settings.application.clientId)")
            if settings.generatedSecret {
                // The emulator's own throwaway credential: the caller needs it to call the token endpoints.
                Console.line("  client secret: \(settings.application.clientSecret)  (generated for this run; pass --client-secret to fix it)")
            }
            Console.line("  redirect URL:  \(settings.application.redirectURL)")
            Console.line("  merchants:     \(emulator.merchants.map(\.id).joined(separator: ", "))")
            if let webhook = settings.webhook { Console.line("  webhook URL:   \(webhook.notificationURL)") }
        }
        try await app.runService()
    }
}

/// A command line that cannot be carried out, with a message for the person who typed it.
public enum CommandError: Error, CustomStringConvertible {
    case unknownCommand(String)
    case invalidValue(key: String, reason: String)

    public var description: String {
        switch self {
        case .unknownCommand(let name): "unknown command '\(name)'; run 'square-onboard help'"
        case .invalidValue(let key, let reason): "\(key) \(reason)"
        }
    }
}
