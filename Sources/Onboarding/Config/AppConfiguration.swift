import Configuration
import Foundation
import Hummingbird
import Logging
import OnboardCrypto
import SquareOAuth

/// Every setting of the service, read once at start (CLI > environment > `.env` > defaults).
public struct AppConfiguration: Sendable {
    /// Which OAuth flow new authorizations use.
    public typealias Flow = OAuthFlow

    public var host: String
    public var port: Int
    public var publicBaseURL: URL
    public var squareEnvironment: SquareEnvironment
    /// The operator's name for a custom base URL (`square.environmentName`); unused for production and sandbox.
    public var customEnvironmentName: String
    public var squareClientId: String
    public var squareClientSecret: Secret?
    public var redirectURL: String
    public var scopes: [String]
    public var flow: Flow
    public var squareVersion: String
    public var squareTimeout: Duration
    public var dataDirectory: String
    public var resourcesDirectory: String
    public var keyRing: KeyRing
    public var platformName: String
    public var frameAncestors: String
    public var logLevel: Logger.Level
    public var tokenLife: TokenLifeSettings
    /// How long a started authorization may take to come back through the callback.
    public var authorizationLifetime: TimeInterval
    /// How log lines are written: readable text, or one JSON object per line for log shippers.
    public enum LogFormat: String, Sendable {
        case text
        case json
    }

    public var logFormat: LogFormat
    /// The bearer token `/metrics` requires; nil turns `/metrics` off.
    public var metricsBearerToken: Secret?
    /// Whether `serve` and `demo` run the partner webhook dispatcher.
    public var webhooksEnabled: Bool
    /// Whether partner webhooks may reach loopback, private, link-local and metadata addresses (off: refused).
    public var webhooksAllowPrivateTargets: Bool
    /// How long finished rows are kept before the retention sweep deletes them.
    public var retention: RetentionSettings
    /// Admin sessions and the sign-in throttle.
    public var admin: AdminSettings
    public var webhookSignatureKey: Secret?
    public var webhookNotificationURL: String
    /// How the HTTP edge protects itself: connection timeouts, header size, per-client rate limits.
    public var edge: EdgeSettings

    /// The environment's stable identity, stored with each connection and bound into its sealed tokens.
    ///
    /// `production` or `sandbox`, or for a custom base URL the operator's name for it, never the URL itself:
    /// reaching the same Square through another URL (a proxy, a new port) must find the same connections.
    public var environmentIdentity: String {
        switch squareEnvironment {
        case .production: "production"
        case .sandbox: "sandbox"
        case .custom: customEnvironmentName
        }
    }

    /// Where the SQLite file lives.
    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("square-onboard.sqlite") }

    /// The origin browsers send with our own form posts: scheme, host and port of the public URL.
    public var publicOrigin: String {
        var components = URLComponents()
        components.scheme = publicBaseURL.scheme
        components.host = publicBaseURL.host
        components.port = publicBaseURL.port
        return components.url?.absoluteString ?? publicBaseURL.absoluteString
    }

    /// Cookies get `Secure` unless the public URL is plain http on loopback.
    public var secureCookies: Bool {
        !(publicBaseURL.scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(publicBaseURL.host ?? ""))
    }

    /// Reads and validates every key of `Setting.all`; the error names the key and what is wrong with it.
    public init(reader: ConfigReader) throws {
        let settings = SettingsReader(reader: reader)
        host = settings.value(.httpHost)
        port = try settings.int(.httpPort, in: 0...65535)

        let base = settings.string(.publicBaseURL, else: "http://127.0.0.1:\(port)")
        guard let baseURL = URL(string: base.trimmingSuffix("/")), ["http", "https"].contains(baseURL.scheme ?? ""),
            baseURL.host != nil
        else { throw ConfigurationError.invalid(Setting.publicBaseURL.key, "must be an absolute http(s) URL") }
        publicBaseURL = baseURL

        guard let squareEnvironment = SquareEnvironment(settings.value(.squareEnvironment)) else {
            throw ConfigurationError.invalid(Setting.squareEnvironment.key, "must be production, sandbox or an http(s) URL")
        }
        self.squareEnvironment = squareEnvironment
        customEnvironmentName = settings.value(.squareEnvironmentName)
        guard Self.isValidEnvironmentName(customEnvironmentName) else {
            throw ConfigurationError.invalid(Setting.squareEnvironmentName.key, "must be 1 to 40 lowercase letters, digits, '-' or '_'")
        }
        guard let clientId = settings.string(.squareClientId), !clientId.isEmpty else {
            throw ConfigurationError.missing(Setting.squareClientId.key, "your Square application's id (Developer Dashboard → OAuth)")
        }
        squareClientId = clientId
        squareClientSecret = settings.string(.squareClientSecret).flatMap { $0.isEmpty ? nil : Secret($0) }
        redirectURL = settings.string(.squareRedirectURL, else: baseURL.absoluteString + "/oauth/callback")
        scopes = SquareScope.parse(settings.value(.squareScopes))
        guard !scopes.isEmpty else { throw ConfigurationError.invalid(Setting.squareScopes.key, "must name at least one permission") }
        if let unknown = scopes.first(where: { !SquareScope.isKnown($0) }) {
            throw ConfigurationError.invalid(Setting.squareScopes.key, "'\(unknown)' is not a Square permission")
        }
        guard let flow = Flow(rawValue: settings.value(.squareFlow)) else {
            throw ConfigurationError.invalid(Setting.squareFlow.key, "must be pkce or code")
        }
        self.flow = flow
        if flow == .code && squareClientSecret == nil {
            throw ConfigurationError.missing(Setting.squareClientSecret.key, "the code flow exchanges codes with the client secret")
        }
        squareVersion = settings.value(.squareVersion)
        let timeout = try settings.int(.squareTimeoutSeconds, in: 1...120)
        squareTimeout = .seconds(timeout)

        dataDirectory = settings.value(.dataDirectory)
        resourcesDirectory = settings.string(.resourcesDirectory, else: FileManager.default.currentDirectoryPath)
        keyRing = try Self.keyRing(settings)
        platformName = settings.value(.platformName)
        frameAncestors = settings.value(.frameAncestors)
        guard !frameAncestors.contains(";"), !frameAncestors.contains("\n") else {
            throw ConfigurationError.invalid(Setting.frameAncestors.key, "must be a CSP source list without ';'")
        }
        guard let level = Logger.Level(rawValue: settings.value(.logLevel)) else {
            throw ConfigurationError.invalid(Setting.logLevel.key, "must be trace, debug, info, notice, warning, error or critical")
        }
        logLevel = level
        tokenLife = try TokenLifeSettings(settings: settings, squareTimeoutSeconds: timeout)
        authorizationLifetime = TimeInterval(try settings.int(.authorizationLifetimeMinutes, in: 1...60)) * 60
        retention = try RetentionSettings(settings: settings)
        guard let format = LogFormat(rawValue: settings.value(.logFormat)) else {
            throw ConfigurationError.invalid(Setting.logFormat.key, "must be text or json")
        }
        logFormat = format
        metricsBearerToken = settings.string(.metricsBearerToken).flatMap { $0.isEmpty ? nil : Secret($0) }
        webhooksEnabled = try settings.bool(.webhooksEnabled)
        webhooksAllowPrivateTargets = try settings.bool(.webhooksAllowPrivateTargets)
        admin = try AdminSettings(settings: settings)
        webhookSignatureKey = settings.string(.webhookSignatureKey).flatMap { $0.isEmpty ? nil : Secret($0) }
        webhookNotificationURL = settings.string(.webhookURL, else: baseURL.absoluteString + "/webhooks/square")
        edge = try EdgeSettings(settings: settings)
    }

    /// A name that cannot be mistaken for a URL: `[a-z0-9_-]{1,40}`.
    static func isValidEnvironmentName(_ name: String) -> Bool {
        (1...40).contains(name.utf8.count)
            && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F }
    }

    /// The configuration sources in precedence order: command line, environment, `.env`.
    ///

    /// The encryption keys from `onboard.encryptionKeys`, the first one active.
    static func keyRing(_ settings: SettingsReader) throws -> KeyRing {
        guard let keys = settings.string(.encryptionKeys), !keys.isEmpty else {
            throw ConfigurationError.missing(
                Setting.encryptionKeys.key,
                "kid:base64key[,kid:base64key…]; make one with 'square-onboard keys generate'"
            )
        }
        do {
            return try KeyRing(parsing: keys)
        } catch {
            throw ConfigurationError.invalid(Setting.encryptionKeys.key, "\(error)")
        }
    }

    /// Where the database is and the keys that seal its secrets: all that the offline partner commands need, so they
    /// work without the Square settings `serve` requires.
    package static func storeLocation(reader: ConfigReader) throws -> (databasePath: String, keyRing: KeyRing) {
        let settings = SettingsReader(reader: reader)
        let directory = settings.value(.dataDirectory)
        return ((directory as NSString).appendingPathComponent("square-onboard.sqlite"), try keyRing(settings))
    }
    /// `flags` maps settings to values as the command line gave them (already checked against `Setting.all`).
    package static func standardReader(flags: [Setting: String] = [:]) async throws -> ConfigReader {
        ConfigReader(providers: [
            // The flags are spelled as environment variables so that values are parsed exactly as the environment's
            // are (a comma in `--onboard-encryption-keys` separates keys, not values) and secrets stay redacted.
            EnvironmentVariablesProvider(
                environmentVariables: Dictionary(uniqueKeysWithValues: flags.map { ($0.key.environmentVariable, $0.value) }),
                secretsSpecifier: .specific(Set(Setting.all.filter(\.isSecret).map(\.environmentVariable)))
            ),
            EnvironmentVariablesProvider(),
            try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true),
        ])
    }
}

/// A configuration value that is missing or wrong, named by its key.
public enum ConfigurationError: Error, CustomStringConvertible {
    case missing(String, String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .missing(let key, let hint): "missing \(key) (\(Self.spellings(key))): \(hint)"
        case .invalid(let key, let problem): "\(key) (\(Self.spellings(key))) \(problem)"
        }
    }

    /// How a key is spelled as a flag and as an environment variable.
    static func spellings(_ key: String) -> String {
        "\(flagName(key)) or \(environmentVariableName(key))"
    }

    /// `square.clientId` → `--square-client-id`.
    static func flagName(_ key: String) -> String { Setting(key, shown: "", "").flag }

    /// `square.clientId` → `SQUARE_CLIENT_ID`.
    static func environmentVariableName(_ key: String) -> String { Setting(key, shown: "", "").environmentVariable }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
