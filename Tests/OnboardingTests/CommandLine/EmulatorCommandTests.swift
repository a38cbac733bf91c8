import ArgumentParser
import SquareEmulator
import Testing

@testable import square_onboard

@Suite("square-onboard emulator command line")
struct EmulatorCommandTests {
    func settings(_ arguments: [String]) throws -> EmulatorCommand.Settings {
        try EmulatorCommand.parse(arguments).settings()
    }

    @Test func flagsConfigureTheEmulatedApplication() throws {
        let parsed = try settings([
            "--port", "9123", "--client-id", "app-1", "--client-secret", "s3cret", "--redirect-url",
            "http://localhost:8080/oauth/callback", "--app-name", "Acme",
        ])
        #expect(parsed.port == 9123)
        #expect(parsed.application.clientId == "app-1")
        #expect(parsed.application.clientSecret == "s3cret")
        #expect(parsed.application.redirectURL == "http://localhost:8080/oauth/callback")
        #expect(parsed.application.name == "Acme")
        #expect(!parsed.generatedSecret)
    }

    @Test func defaultsGenerateAFreshSecret() throws {
        let first = try settings([])
        let second = try settings([])
        #expect(first.port == 8090)
        #expect(first.host == "127.0.0.1")
        #expect(first.generatedSecret)
        #expect(first.application.clientSecret != second.application.clientSecret)
        #expect(first.webhook == nil)
    }

    @Test func webhookFlagsSubscribeTheEmulator() throws {
        let parsed = try settings([
            "--webhook-url", "http://127.0.0.1:8080/webhooks/square", "--webhook-signature-key", "whsec-test-key",
        ])
        let webhook = try #require(parsed.webhook)
        #expect(webhook.notificationURL == "http://127.0.0.1:8080/webhooks/square")
        #expect(webhook.signatureKey == "whsec-test-key")
        #expect(!String(describing: webhook).contains("whsec-test-key"))
    }

    @Test(arguments: [
        ["--port", "70000"], ["--port", "eighty"], ["--redirect-url", "not a url"], ["--redirect-url", "ftp://x/cb"],
        ["--webhook-url", "http://127.0.0.1:8080/webhooks/square"],
        ["--webhook-signature-key", "whsec-test-key"],
        ["--webhook-url", "ftp://127.0.0.1/hook", "--webhook-signature-key", "whsec-test-key"],
        ["--webhook-url", "not a url", "--webhook-signature-key", "whsec-test-key"],
        ["--bogus"],
    ])
    func badFlagsAreRejectedNamingTheFlag(arguments: [String]) {
        let error = #expect(throws: (any Error).self) { try settings(arguments) }
        #expect(EmulatorCommand.message(for: error!).contains(arguments[0]))
    }

    @Test func aWebhookFlagWithoutItsPartnerNamesTheMissingOne() {
        let error = #expect(throws: (any Error).self) { try settings(["--webhook-url", "http://127.0.0.1:8080/hook"]) }
        #expect(EmulatorCommand.message(for: error!) == "'--webhook-url' needs '--webhook-signature-key' as well")
        let other = #expect(throws: (any Error).self) { try settings(["--webhook-signature-key", "k"]) }
        #expect(EmulatorCommand.message(for: other!) == "'--webhook-signature-key' needs '--webhook-url' as well")
    }
}
