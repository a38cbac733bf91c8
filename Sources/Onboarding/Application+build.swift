import Configuration
import Foundation
import Hummingbird
import Logging
import SquareOAuth

/// Builds the service from configuration: `main`, `demo` and the tests all come through here.
public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await buildApplication(configuration: AppConfiguration(reader: reader))
}

/// Builds the service: opens and migrates the database, loads templates, wires controllers and middleware.
public func buildApplication(
    configuration: AppConfiguration,
    clock: AppClock = .system,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "square-onboard")
    logger.logLevel = configuration.logLevel
    let database = try AppDatabase.open(path: configuration.databasePath)
    let resources = URL(fileURLWithPath: configuration.resourcesDirectory)
    let pages = try await PageRenderer.load(
        directory: resources.appendingPathComponent("Templates").path,
        platformName: configuration.platformName
    )
    let publicDirectory = resources.appendingPathComponent("Public").path
    guard FileManager.default.fileExists(atPath: publicDirectory) else { throw StartupError.missingPublic(directory: publicDirectory) }

    let square = SquareOAuthClient(
        configuration: .init(
            environment: configuration.squareEnvironment,
            squareVersion: configuration.squareVersion,
            timeout: configuration.squareTimeout
        ),
        logger: logger
    )
    let service = OnboardingService(
        configuration: configuration,
        database: database,
        square: square,
        vault: TokenVault(keyRing: configuration.keyRing),
        clock: clock,
        logger: logger
    )
    let cookies = BrowserCookies(secure: configuration.secureCookies)
    let squareOrigin = configuration.squareEnvironment.baseURL.absoluteString.trimmingSuffix("/")

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: SecurityHeadersMiddleware(squareOrigin: squareOrigin, frameAncestors: configuration.frameAncestors))
    router.add(middleware: ErrorPageMiddleware(pages: pages))
    router.add(middleware: FileMiddleware(publicDirectory, searchForIndexHtml: false, logger: logger))
    router.addRoutes(ConnectController(service: service, pages: pages, cookies: cookies).endpoints)
    router.addRoutes(ConnectionController(service: service, pages: pages, cookies: cookies).endpoints)
    router.addRoutes(HealthController(database: database).endpoints)

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}
