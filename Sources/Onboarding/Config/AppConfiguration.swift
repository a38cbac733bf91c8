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
    public var webhookSignatureKey: Secret?
    public var webhookNotificationURL: String

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

    /// Reads and validates every key; the error names the key and what is wrong with it.
    public init(reader: ConfigReader) throws {
        host = reader.string(forKey: "http.host", default: "127.0.0.1")
        port = reader.int(forKey: "http.port", default: 8080)
        guard (0...65535).contains(port) else { throw ConfigurationError.invalid("http.port", "must be 0 to 65535") }

        let base = reader.string(forKey: "public.baseUrl", default: "http://127.0.0.1:\(port)")
        guard let baseURL = URL(string: base.trimmingSuffix("/")), ["http", "https"].contains(baseURL.scheme ?? ""),
            baseURL.host != nil
        else { throw ConfigurationError.invalid("public.baseUrl", "must be an absolute http(s) URL") }
        publicBaseURL = baseURL

        let environment = reader.string(forKey: "square.environment", default: "sandbox")
        guard let squareEnvironment = SquareEnvironment(environment) else {
            throw ConfigurationError.invalid("square.environment", "must be production, sandbox or an http(s) URL")
        }
        self.squareEnvironment = squareEnvironment
        customEnvironmentName = reader.string(forKey: "square.environmentName", default: "custom")
        guard Self.isValidEnvironmentName(customEnvironmentName) else {
            throw ConfigurationError.invalid("square.environmentName", "must be 1 to 40 lowercase letters, digits, '-' or '_'")
        }
        guard let clientId = reader.string(forKey: "square.clientId"), !clientId.isEmpty else {
            throw ConfigurationError.missing("square.clientId", "your Square application's id (Developer Dashboard → OAuth)")
        }
        squareClientId = clientId
        squareClientSecret = reader.string(forKey: "square.clientSecret", isSecret: true).flatMap { $0.isEmpty ? nil : Secret($0) }
        redirectURL = reader.string(forKey: "square.redirectUrl", default: baseURL.absoluteString + "/oauth/callback")
        scopes = SquareScope.parse(reader.string(forKey: "square.scopes", default: "MERCHANT_PROFILE_READ PAYMENTS_READ"))
        guard !scopes.isEmpty else { throw ConfigurationError.invalid("square.scopes", "must name at least one permission") }
        if let unknown = scopes.first(where: { !SquareScope.isKnown($0) }) {
            throw ConfigurationError.invalid("square.scopes", "'\(unknown)' is not a Square permission")
        }
        guard let flow = Flow(rawValue: reader.string(forKey: "square.flow", default: "pkce")) else {
            throw ConfigurationError.invalid("square.flow", "must be pkce or code")
        }
        self.flow = flow
        if flow == .code && squareClientSecret == nil {
            throw ConfigurationError.missing("square.clientSecret", "the code flow exchanges codes with the client secret")
        }
        squareVersion = reader.string(forKey: "square.version", default: "2025-10-16")
        let timeout = reader.int(forKey: "square.timeoutSeconds", default: 15)
        guard (1...120).contains(timeout) else { throw ConfigurationError.invalid("square.timeoutSeconds", "must be 1 to 120") }
        squareTimeout = .seconds(timeout)

        dataDirectory = reader.string(forKey: "data.directory", default: "./data")
        resourcesDirectory = reader.string(forKey: "resources.directory", default: FileManager.default.currentDirectoryPath)
        guard let keys = reader.string(forKey: "onboard.encryptionKeys", isSecret: true), !keys.isEmpty else {
            throw ConfigurationError.missing(
                "onboard.encryptionKeys",
                "kid:base64key[,kid:base64key…]; make one with 'square-onboard keys generate'"
            )
        }
        do {
            keyRing = try KeyRing(parsing: keys)
        } catch {
            throw ConfigurationError.invalid("onboard.encryptionKeys", "\(error)")
        }
        platformName = reader.string(forKey: "platform.name", default: "Demo Platform")
        frameAncestors = reader.string(forKey: "security.frameAncestors", default: "'none'")
        guard !frameAncestors.contains(";"), !frameAncestors.contains("\n") else {
            throw ConfigurationError.invalid("security.frameAncestors", "must be a CSP source list without ';'")
        }
        guard let level = Logger.Level(rawValue: reader.string(forKey: "log.level", default: "info")) else {
            throw ConfigurationError.invalid("log.level", "must be trace, debug, info, notice, warning, error or critical")
        }
        logLevel = level
        tokenLife = try TokenLifeSettings(reader: reader, squareTimeoutSeconds: timeout)
        webhookSignatureKey = reader.string(forKey: "square.webhookSignatureKey", isSecret: true)
            .flatMap { $0.isEmpty ? nil : Secret($0) }
        webhookNotificationURL = reader.string(
            forKey: "square.webhookUrl",
            default: baseURL.absoluteString + "/webhooks/square"
        )
    }

    /// A name that cannot be mistaken for a URL: `[a-z0-9_-]{1,40}`.
    static func isValidEnvironmentName(_ name: String) -> Bool {
        (1...40).contains(name.utf8.count)
            && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F }
    }

    /// The configuration sources in precedence order: command line, environment, `.env`.
    public static func standardReader(arguments: [String]) async throws -> ConfigReader {
        ConfigReader(providers: [
            CommandLineArgumentsProvider(arguments: arguments),
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
    static func flagName(_ key: String) -> String {
        "--"
            + key.reduce(into: "") { name, character in
                if character == "." {
                    name += "-"
                } else if character.isUppercase {
                    name += "-" + character.lowercased()
                } else {
                    name.append(character)
                }
            }
    }

    /// `square.clientId` → `SQUARE_CLIENT_ID`.
    static func environmentVariableName(_ key: String) -> String {
        key.reduce(into: "") { name, character in
            if character == "." {
                name += "_"
            } else if character.isUppercase {
                name += "_" + String(character)
            } else {
                name += character.uppercased()
            }
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
