import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SquareOAuth

/// The service's parts, built once from configuration and shared by `buildApplication` and the command-line tools.
struct AppServices: Sendable {
    let configuration: AppConfiguration
    let database: AppDatabase
    let square: SquareOAuthClient
    let onboarding: OnboardingService
    let refresher: TokenRefresher
    let checker: TokenStatusChecker
    let clock: AppClock
    let logger: Logger

    /// Opens and migrates the database and builds the Square client and the domain services.
    init(configuration: AppConfiguration, clock: AppClock = .system, logger: Logger) throws {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        database = try AppDatabase.open(path: configuration.databasePath)
        square = SquareOAuthClient(
            configuration: .init(
                environment: configuration.squareEnvironment,
                squareVersion: configuration.squareVersion,
                timeout: configuration.squareTimeout
            ),
            logger: logger
        )
        let vault = TokenVault(keyRing: configuration.keyRing)
        onboarding = OnboardingService(
            configuration: configuration,
            database: database,
            square: square,
            vault: vault,
            clock: clock,
            logger: logger
        )
        refresher = TokenRefresher(configuration: configuration, database: database, square: square, clock: clock, logger: logger)
        checker = TokenStatusChecker(
            database: database,
            square: square,
            vault: vault,
            settings: configuration.tokenLife,
            clock: clock,
            logger: logger
        )
    }
}

/// Builds the service: opens and migrates the database, loads templates, wires controllers, middleware and services.
public func buildApplication(
    configuration: AppConfiguration,
    clock: AppClock = .system,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "square-onboard")
    logger.logLevel = configuration.logLevel
    return try await buildApplication(
        services: AppServices(configuration: configuration, clock: clock, logger: logger),
        onServerRunning: onServerRunning
    )
}

/// Builds the HTTP application around already built services; the token-life service runs beside the server.
func buildApplication(
    services: AppServices,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let (configuration, logger) = (services.configuration, services.logger)
    let resources = URL(fileURLWithPath: configuration.resourcesDirectory)
    let pages = try await PageRenderer.load(
        directory: resources.appendingPathComponent("Templates").path,
        platformName: configuration.platformName
    )
    let publicDirectory = resources.appendingPathComponent("Public").path
    guard FileManager.default.fileExists(atPath: publicDirectory) else { throw StartupError.missingPublic(directory: publicDirectory) }

    let service = services.onboarding
    let cookies = BrowserCookies(secure: configuration.secureCookies)
    let squareOrigin = configuration.squareEnvironment.baseURL.absoluteString.trimmingSuffix("/")

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: SecurityHeadersMiddleware(squareOrigin: squareOrigin, frameAncestors: configuration.frameAncestors))
    router.add(middleware: ErrorPageMiddleware(pages: pages))
    router.add(middleware: FileMiddleware(publicDirectory, searchForIndexHtml: false, logger: logger))
    router.addRoutes(ConnectController(service: service, pages: pages, cookies: cookies).endpoints)
    router.addRoutes(ConnectionController(service: service, pages: pages, cookies: cookies).endpoints)
    router.addRoutes(HealthController(database: services.database).endpoints)
    router.addRoutes(
        SquareWebhookController(
            database: services.database,
            signatureKey: configuration.webhookSignatureKey,
            notificationURL: configuration.webhookNotificationURL,
            environment: service.environmentName,
            clock: services.clock
        ).endpoints
    )

    var background: [any Service] = []
    if configuration.tokenLife.enabled {
        background.append(TokenLifeService(refresher: services.refresher, checker: services.checker, logger: logger))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
        services: background,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}
