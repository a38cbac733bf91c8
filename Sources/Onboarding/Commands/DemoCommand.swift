import Configuration
import Foundation
import Hummingbird
import Logging
import OnboardCrypto
import ServiceLifecycle
import SquareEmulator

/// `square-onboard demo`: the service and the Square emulator together on loopback, a fresh data folder, generated keys.
enum DemoCommand {
    static let usage = """
        Usage: square-onboard demo [--port 8080] [--emulator-port 8090] [--data-directory DIR]
        Starts square-onboard and the Square sandbox emulator on 127.0.0.1 with generated credentials and keys.
        """

    static func run(arguments: [String], logger: Logger) async throws {
        if arguments.contains("--help") || arguments.contains("-h") {
            Console.line(usage)
            return
        }
        let flags = ConfigReader(provider: CommandLineArgumentsProvider(arguments: ["demo"] + arguments))
        let port = flags.int(forKey: "port", default: 8080)
        let emulatorPort = flags.int(forKey: "emulatorPort", default: 8090)
        guard (1...65535).contains(port), (1...65535).contains(emulatorPort), port != emulatorPort else {
            throw CommandError.invalidValue(key: "--port/--emulator-port", reason: "must be two different ports from 1 to 65535")
        }
        let dataDirectory =
            flags.string(forKey: "dataDirectory")
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "square-onboard-demo-\(SecureRandom.token(length: 8, alphabet: Array("abcdefghijkmnpqrstuvwxyz23456789")))"
            ).path
        try FileManager.default.createDirectory(
            atPath: dataDirectory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )

        let keyRing = try demoKeyRing(dataDirectory: dataDirectory)
        let clientId = "sandbox-sq0idb-demo"
        let clientSecret = "sandbox-sq0csb-" + SecureRandom.urlSafeToken(byteCount: 24)
        let baseURL = "http://127.0.0.1:\(port)"
        let webhookKey = SecureRandom.urlSafeToken(byteCount: 24)
        let emulator = SquareEmulator(
            application: EmulatedApplication(
                name: "Demo Platform",
                clientId: clientId,
                clientSecret: clientSecret,
                redirectURL: baseURL + "/oauth/callback"
            ),
            webhook: EmulatorWebhookSubscription(notificationURL: baseURL + "/webhooks/square", signatureKey: webhookKey),
            logger: logger
        )
        let configuration = try AppConfiguration(
            reader: ConfigReader(
                provider: InMemoryProvider(values: [
                    "http.host": "127.0.0.1", "http.port": .init(.int(port), isSecret: false),
                    "public.baseUrl": .init(.string(baseURL), isSecret: false),
                    "square.environment": .init(.string("http://127.0.0.1:\(emulatorPort)"), isSecret: false),
                    "square.clientId": .init(.string(clientId), isSecret: false),
                    "square.clientSecret": .init(.string(clientSecret), isSecret: true),
                    "square.flow": "pkce",
                    "square.webhookSignatureKey": .init(.string(webhookKey), isSecret: true),
                    "data.directory": .init(.string(dataDirectory), isSecret: false),
                    "resources.directory": .init(.string(ResourceLocator.find(preferred: ".")), isSecret: false),
                    "onboard.encryptionKeys": .init(.string(keyRing.serialized), isSecret: true),
                    "platform.name": "Demo Platform",
                ])
            )
        )
        let service = try await buildApplication(configuration: configuration, logger: logger) { _ in
            Console.line(
                """

                square-onboard demo is running.
                  Open            \(baseURL)/   and press "Connect with Square"
                  Square          emulator at http://127.0.0.1:\(emulatorPort) (client id \(clientId); no Square account needed;
                                  it sends oauth.authorization.revoked webhooks to \(baseURL)/webhooks/square)
                  Data folder     \(dataDirectory) (fresh SQLite file; generated encryption key in demo-keys.env)
                Press Ctrl-C to stop.

                """
            )
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    emulator.makeApplication(host: "127.0.0.1", port: emulatorPort) as any Service, service,
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// Generates the demo's encryption key and writes it into the data folder (mode 0600), as the README says.
    static func demoKeyRing(dataDirectory: String) throws -> KeyRing {
        let path = (dataDirectory as NSString).appendingPathComponent("demo-keys.env")
        if let existing = try? String(contentsOfFile: path, encoding: .utf8),
            let line = existing.split(separator: "\n").first(where: { $0.hasPrefix("ONBOARD_ENCRYPTION_KEYS=") })
        {
            return try KeyRing(parsing: String(line.dropFirst("ONBOARD_ENCRYPTION_KEYS=".count)))
        }
        let ring = try KeyRing(keys: [("demo1", .generate())])
        FileManager.default.createFile(
            atPath: path,
            contents: Data("ONBOARD_ENCRYPTION_KEYS=\(ring.serialized)\n".utf8),
            attributes: [.posixPermissions: 0o600]
        )
        return ring
    }
}
