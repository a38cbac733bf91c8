import Configuration
import Testing

@testable import Onboarding

@Suite("square-onboard emulator command line")
struct EmulatorCommandTests {
    func settings(_ arguments: [String]) throws -> EmulatorCommand.Settings {
        try EmulatorCommand.Settings(reader: ConfigReader(provider: CommandLineArgumentsProvider(arguments: ["emulator"] + arguments)))
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
    }

    @Test(arguments: [["--port", "70000"], ["--redirect-url", "not a url"], ["--redirect-url", "ftp://x/cb"]])
    func badFlagsAreRejectedWithAMessage(arguments: [String]) {
        #expect(throws: CommandError.self) { try settings(arguments) }
    }
}
