import ArgumentParser
import Foundation
import Hummingbird
import OnboardCrypto
import SquareEmulator

/// `square-onboard emulator`: the Square sandbox emulator alone on loopback.
struct EmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Run the built-in Square sandbox emulator alone.",
        discussion: """
            Runs Square's OAuth endpoints (authorize, token, revoke, token/status, renew) in memory; with a webhook URL, \
            every ended authorization is POSTed there as a signed oauth.authorization.revoked event. Ctrl-C stops it.
            """
    )

    @Option(help: "The listen address.")
    var host = "127.0.0.1"

    @Option(help: "The listen port (0 picks a free one).")
    var port = 8090

    @Option(help: "The registered application's id.")
    var clientId = "sandbox-sq0idb-emulator"

    @Option(help: ArgumentHelp("The application's secret (default: generated and printed).", valueName: "secret"))
    var clientSecret: String?

    @Option(help: ArgumentHelp("Where consent results are sent; redirect_uri, when given, must equal it.", valueName: "url"))
    var redirectUrl = "http://127.0.0.1:8080/oauth/callback"

    @Option(help: "The name the consent page shows.")
    var appName = "square-onboard"

    @Option(help: ArgumentHelp("Where oauth.authorization.revoked webhooks are POSTed (needs --webhook-signature-key).", valueName: "url"))
    var webhookUrl: String?

    @Option(help: ArgumentHelp("The subscription's signature key (needs --webhook-url; never logged).", valueName: "key"))
    var webhookSignatureKey: String?

    /// The emulator these options describe, with its webhook subscription if any.
    struct Settings: Sendable {
        var host: String
        var port: Int
        var application: EmulatedApplication
        var generatedSecret: Bool
        var webhook: EmulatorWebhookSubscription?
    }

    func validate() throws {
        _ = try settings()
    }

    /// Checks the options and builds the settings; a wrong value is a usage error that names its flag.
    func settings() throws -> Settings {
        guard (0...65535).contains(port) else { throw ValidationError("'--port' must be 0 to 65535") }
        guard let url = URL(string: redirectUrl), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw ValidationError("'--redirect-url' must be an absolute http(s) URL")
        }
        return Settings(
            host: host,
            port: port,
            application: EmulatedApplication(
                name: appName,
                clientId: clientId,
                clientSecret: clientSecret ?? "sandbox-sq0csb-" + SecureRandom.urlSafeToken(byteCount: 24),
                redirectURL: redirectUrl
            ),
            generatedSecret: clientSecret == nil,
            webhook: try webhook()
        )
    }

    private func webhook() throws -> EmulatorWebhookSubscription? {
        switch (webhookUrl, webhookSignatureKey) {
        case (nil, nil):
            return nil
        case (let url?, let key?) where !key.isEmpty:
            let subscription = EmulatorWebhookSubscription(notificationURL: url, signatureKey: key)
            guard subscription.hasValidNotificationURL else {
                throw ValidationError("'--webhook-url' must be an absolute http(s) URL")
            }
            return subscription
        case (_?, _):
            throw ValidationError("'--webhook-url' needs '--webhook-signature-key' as well")
        case (nil, _?):
            throw ValidationError("'--webhook-signature-key' needs '--webhook-url' as well")
        }
    }

    func run() async throws {
        let settings = try settings()
        let emulator = SquareEmulator(application: settings.application, webhook: settings.webhook, logger: Console.logger())
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
