import Configuration
import Hummingbird
import Logging

/// `square-onboard serve`: runs the service with configuration from flags, environment and `.env`.
enum ServeCommand {
    static func run(arguments: [String], logger: Logger) async throws {
        let reader = try await AppConfiguration.standardReader(arguments: ["serve"] + arguments)
        var configuration = try AppConfiguration(reader: reader)
        configuration.resourcesDirectory = ResourceLocator.find(preferred: configuration.resourcesDirectory)
        let (host, publicURL) = (configuration.host, configuration.publicBaseURL.absoluteString)
        let app = try await buildApplication(configuration: configuration, logger: logger) { port in
            Console.line("square-onboard listening on http://\(host):\(port) (public URL \(publicURL))")
        }
        try await app.runService()
    }
}
