import ArgumentParser
import Onboarding

/// `square-onboard serve`: the service, configured by flags, environment and `.env`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the service (settings: flags, environment, .env).",
        discussion: SettingFlags.help
    )

    @OptionGroup var settings: SettingFlags

    func run() async throws {
        var configuration = try await settings.configuration()
        configuration.resourcesDirectory = ResourceLocator.find(preferred: configuration.resourcesDirectory)
        let (host, publicURL) = (configuration.host, configuration.publicBaseURL.absoluteString)
        let app = try await buildApplication(configuration: configuration, logger: Console.logger()) { port in
            Console.line("square-onboard listening on http://\(host):\(port) (public URL \(publicURL))")
        }
        try await app.runService()
    }
}
