import ArgumentParser
import Configuration
import Foundation
import Hummingbird
import OnboardCrypto
import Onboarding
import ServiceLifecycle
import SquareEmulator

/// `square-onboard demo`: the service and the Square emulator together on loopback, a fresh data folder, generated keys.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the service and the Square emulator together on loopback; nothing to configure.",
        discussion: """
            Starts square-onboard and the Square sandbox emulator on 127.0.0.1 with generated credentials, a fresh \
            SQLite file and a generated encryption key (kept in demo-keys.env in the data folder). Ctrl-C stops it.
            """
    )

    @Option(help: "The service's port on 127.0.0.1.")
    var port = 8080

    @Option(help: "The Square emulator's port on 127.0.0.1.")
    var emulatorPort = 8090

    @Option(help: ArgumentHelp("Where the SQLite file and demo-keys.env go (default: a new temporary folder).", valueName: "path"))
    var dataDirectory: String?

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("'--port' must be 1 to 65535") }
        guard (1...65535).contains(emulatorPort) else { throw ValidationError("'--emulator-port' must be 1 to 65535") }
        guard port != emulatorPort else { throw ValidationError("'--port' and '--emulator-port' must differ") }
    }

    func run() async throws {
        let logger = Console.logger()
        let dataDirectory =
            self.dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "square-onboard-demo-\(SecureRandom.token(length: 8, alphabet: Array("abcdefghijkmnpqrstuvwxyz23456789")))"
            ).path
        try FileManager.default.createDirectory(
            atPath: dataDirectory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )

        let keyRing = try Self.demoKeyRing(dataDirectory: dataDirectory)
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
                    // A partner trying the demo points its webhooks at its own laptop (loopback).
                    "webhooks.allowPrivateTargets": "true",
                ])
            )
        )
        let admin = try await AdminOperations.demoOwner(configuration: configuration, logger: Console.logger(level: .warning))
        let emulatorPort = emulatorPort
        let service = try await buildApplication(configuration: configuration, logger: logger) { _ in
            Console.line(
                """

                square-onboard demo is running.
                  Open            \(baseURL)/   and press "Connect with Square"
                  Admin           \(baseURL)/admin/login   name \(admin.name), password \(admin.password) (shown only now)
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

    /// Generates the demo's encryption key and writes it into the data folder (mode 0600), as docs/operations.md says.
    static func demoKeyRing(dataDirectory: String) throws -> KeyRing {
        let path = (dataDirectory as NSString).appendingPathComponent("demo-keys.env")
        if let existing = try? String(contentsOfFile: path, encoding: .utf8),
            let line = existing.split(separator: "\n").first(where: { $0.hasPrefix("ONBOARD_ENCRYPTION_KEYS=") })
        {
            return try KeyRing(parsing: String(line.dropFirst("ONBOARD_ENCRYPTION_KEYS=".count)))
        }
        let ring = try KeyRing(keys: [("demo1", .generate())])
        _ = FileManager.default.createFile(
            atPath: path,
            contents: Data("ONBOARD_ENCRYPTION_KEYS=\(ring.serialized)\n".utf8),
            attributes: [.posixPermissions: 0o600]
        )
        return ring
    }
}
