import Foundation
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle
import SquareOAuth

/// The service's parts, built once from configuration and shared by `buildApplication` and the command-line tools.
struct AppServices: Sendable {
    let configuration: AppConfiguration
    let store: any OnboardingStore
    let square: SquareOAuthClient
    /// Seals and opens every token and secret; built once here and handed to whoever needs it.
    let vault: TokenVault
    let onboarding: OnboardingService
    let refresher: TokenRefresher
    let checker: TokenStatusChecker
    let newConnectionChecks: NewConnectionChecks
    let retention: RetentionSweeper
    let admins: AdminAccounts
    let adminSessions: AdminSessions
    let partners: PartnerDirectory
    let partnerAPI: PartnerAPIService
    let clock: AppClock
    let logger: Logger
    /// The WAL's checkpoints beside the writer, for `serve` (`AppServices.open(..., checkpointsInBackground: true)`).
    var walCheckpointer: WALCheckpointer?

    /// Builds the Square client and the domain services on an opened, migrated store.
    init(configuration: AppConfiguration, store: any OnboardingStore, clock: AppClock = .system, logger: Logger) {
        let logger = RequestScopedLogHandler.scoped(logger)
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.logger = logger
        square = SquareOAuthClient(
            configuration: .init(
                environment: configuration.squareEnvironment,
                squareVersion: configuration.squareVersion,
                timeout: configuration.squareTimeout
            ),
            logger: logger
        )
        let vault = TokenVault(keyRing: configuration.keyRing)
        self.vault = vault
        checker = TokenStatusChecker(store: store, square: square, vault: vault, settings: configuration.tokenLife, clock: clock, logger: logger)
        newConnectionChecks = NewConnectionChecks(checker: checker, logger: logger)
        onboarding = OnboardingService(
            configuration: configuration,
            store: store,
            square: square,
            vault: vault,
            clock: clock,
            logger: logger,
            newConnectionChecks: newConnectionChecks
        )
        refresher = TokenRefresher(configuration: configuration, store: store, square: square, vault: vault, clock: clock, logger: logger)
        retention = RetentionSweeper(store: store, settings: configuration.retention, clock: clock, logger: logger)
        admins = AdminAccounts(store: store, clock: clock, logger: logger)
        partners = PartnerDirectory(store: store, vault: vault, clock: clock, logger: logger)
        partnerAPI = PartnerAPIService(
            configuration: configuration,
            store: store,
            onboarding: onboarding,
            refresher: refresher,
            vault: vault,
            clock: clock,
            logger: logger,
            webhookTargets: WebhookTargetGuard(allowPrivateTargets: configuration.webhooksAllowPrivateTargets)
        )
        adminSessions = AdminSessions(
            store: store,
            settings: configuration.admin,
            clock: clock,
            logger: logger,
            keyRing: configuration.keyRing,
            vault: vault,
            issuer: configuration.platformName
        )
    }

    /// Opens and migrates the SQLite file (off the async executors), re-keys legacy environment names, builds the services.
    ///
    /// With `checkpointsInBackground` the caller runs `walCheckpointer` (as `serve` does) and the writer's own automatic
    /// checkpoint is only a safety net.
    static func open(
        configuration: AppConfiguration,
        clock: AppClock = .system,
        logger: Logger,
        checkpointsInBackground: Bool = false
    ) async throws -> AppServices {
        let path = configuration.databasePath
        let (store, checkpointer) = try await NIOThreadPool.singleton.runIfActive {
            guard checkpointsInBackground else { return (try AppDatabase.open(path: path), nil as WALCheckpointer?) }
            let store = try AppDatabase.open(path: path, automaticCheckpointPages: WALCheckpointer.writerSafetyPages)
            return (store, try WALCheckpointer(databasePath: path, logger: logger))
        }
        var services = AppServices(configuration: configuration, store: store, clock: clock, logger: logger)
        services.walCheckpointer = checkpointer
        let moved = try await EnvironmentIdentity(
            store: store,
            vault: services.vault,
            configuration: configuration,
            clock: clock
        ).migrateLegacyNames()
        if moved > 0 {
            logger.notice("Re-keyed \(moved) connection(s) to the environment name '\(configuration.environmentIdentity)'")
        }
        return services
    }
}

/// Builds the service: opens and migrates the database, loads templates, wires the router and the background services.
public func buildApplication(
    configuration: AppConfiguration,
    clock: AppClock = .system,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "square-onboard")
    if configuration.logFormat == .json { logger = Logger(label: logger.label, factory: JSONLogHandler.init) }
    logger.logLevel = configuration.logLevel
    return try await buildApplication(
        services: AppServices.open(configuration: configuration, clock: clock, logger: logger, checkpointsInBackground: true),
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
    let partnerDocument = try await PartnerAPIDocument.load()
    // swift-metrics is bootstrapped with the registry `/metrics` renders before the first metric is made.
    _ = Telemetry.registry
    let publicDirectory = resources.appendingPathComponent("Public").path
    guard FileManager.default.fileExists(atPath: publicDirectory) else { throw StartupError.missingPublic(directory: publicDirectory) }

    // One drain state: a shutdown makes /readyz say "draining" and stops new refreshes at once (see OnboardingApplication).
    let drain = DrainState()
    // New connections' status checks run whether or not the token-life passes do.
    var background: [any Service] = [services.newConnectionChecks]
    if let checkpointer = services.walCheckpointer { background.append(checkpointer) }
    if configuration.tokenLife.enabled {
        background.append(
            TokenLifeService(refresher: services.refresher, checker: services.checker, retention: services.retention, logger: logger, drain: drain)
        )
    }
    if configuration.webhooksEnabled {
        background.append(
            WebhookDispatcher(
                store: services.store,
                vault: services.vault,
                clock: services.clock,
                logger: logger,
                targets: WebhookTargetGuard(allowPrivateTargets: configuration.webhooksAllowPrivateTargets)
            )
        )
    }
    let application = Application(
        router: try buildRouter(services: services, pages: pages, publicDirectory: publicDirectory, partnerDocument: partnerDocument, drain: drain),
        server: .http1(configuration: configuration.edge.http1Configuration(logger: logger)),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
        services: background,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
    return OnboardingApplication(base: application, drain: drain, drainDelay: configuration.edge.drainDelay)
}
