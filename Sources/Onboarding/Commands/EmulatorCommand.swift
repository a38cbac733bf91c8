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

        /// Reads `host`, `port`, `clientId`, `clientSecret`, `redirectUrl` and `appName`.
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
        }
    }

    static let usage = """
        Usage: square-onboard emulator [--host 127.0.0.1] [--port 8090] [--client-id ID] [--client-secret SECRET]
                                       [--redirect-url URL] [--app-name NAME]
        Runs Square's OAuth endpoints (authorize, token, revoke, token/status, renew) in memory on loopback.
        """

    /// Runs until SIGINT or SIGTERM.
    public static func run(arguments: [String], logger: Logger) async throws {
        if arguments.contains("--help") || arguments.contains("-h") {
            Console.line(usage)
            return
        }
        let settings = try Settings(reader: ConfigReader(provider: CommandLineArgumentsProvider(arguments: ["emulator"] + arguments)))
        let emulator = SquareEmulator(application: settings.application, logger: logger)
        let app = emulator.makeApplication(host: settings.host, port: settings.port) { port in
            Console.line("Square sandbox emulator listening on http://\(settings.host):\(port)")
            Console.line("  client id:     \(settings.application.clientId)")
            if settings.generatedSecret {
                // The emulator's own throwaway credential: the caller needs it to call the token endpoints.
                Console.line("  client secret: \(settings.application.clientSecret)  (generated for this run; pass --client-secret to fix it)")
            }
            Console.line("  redirect URL:  \(settings.application.redirectURL)")
            Console.line("  merchants:     \(emulator.merchants.map(\.id).joined(separator: ", "))")
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
