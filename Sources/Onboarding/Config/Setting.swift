import Configuration
import Foundation

/// One service setting: its scoped key, its default and one line of help. `Setting.all` is the only list of keys;
/// `AppConfiguration` reads through it and the command line accepts, documents and spells flags from it.
package struct Setting: Sendable, Hashable {
    /// The scoped key, for example `http.port`.
    package let key: String
    /// The default as help and errors show it (`8080`, `required`, `<public base URL>/oauth/callback`).
    package let defaultText: String
    /// The value used when no source sets the key; nil when the setting is required, optional or derived from another.
    let literalDefault: String?
    /// What the setting means, in one line.
    package let help: String
    /// Whether the value is a credential: never logged or printed.
    package let isSecret: Bool

    /// A setting whose default is a plain value, shown as is.
    init(_ key: String, default literal: String, _ help: String) {
        self.key = key
        self.defaultText = literal
        self.literalDefault = literal
        self.help = help
        self.isSecret = false
    }

    /// A setting without a literal default: `shown` says what happens when it is not set.
    init(_ key: String, shown: String, _ help: String, secret: Bool = false) {
        self.key = key
        self.defaultText = shown
        self.literalDefault = nil
        self.help = help
        self.isSecret = secret
    }

    /// The command-line flag: `square.clientId` → `--square-client-id`.
    package var flag: String {
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

    /// The environment variable (and `.env` name): `square.clientId` → `SQUARE_CLIENT_ID`.
    package var environmentVariable: String {
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

    var configKey: ConfigKey { ConfigKey(key) }

    /// The setting a flag names, if any.
    package static func named(flag: String) -> Setting? { byFlag[flag] }

    private static let byFlag = Dictionary(uniqueKeysWithValues: all.map { ($0.flag, $0) })
}

extension Setting {
    static let httpHost = Setting("http.host", default: "127.0.0.1", "listen address")
    static let httpPort = Setting("http.port", default: "8080", "listen port (0 picks a free one)")
    static let publicBaseURL = Setting(
        "public.baseUrl",
        shown: "http://127.0.0.1:<port>",
        "the URL browsers use; cookies are Secure unless it is plain http on loopback"
    )
    static let squareEnvironment = Setting(
        "square.environment",
        default: "sandbox",
        "production, sandbox or any http(s) base URL (the emulator, a proxy)"
    )
    static let squareEnvironmentName = Setting(
        "square.environmentName",
        default: "custom",
        "the stable name stored with connections when square.environment is a URL (a-z, 0-9, '-', '_')"
    )
    static let squareClientId = Setting("square.clientId", shown: "required", "your Square application id")
    static let squareClientSecret = Setting(
        "square.clientSecret",
        shown: "none",
        "the application secret; required for the code flow and for Disconnect",
        secret: true
    )
    static let squareRedirectURL = Setting(
        "square.redirectUrl",
        shown: "<public base URL>/oauth/callback",
        "must equal the one registered at Square"
    )
    static let squareScopes = Setting(
        "square.scopes",
        default: "MERCHANT_PROFILE_READ PAYMENTS_READ",
        "permissions to ask for, space or comma separated"
    )
    static let squareFlow = Setting("square.flow", default: "pkce", "pkce (verifier only) or code (client secret + verifier)")
    static let squareVersion = Setting("square.version", default: "2025-10-16", "the Square-Version header")
    static let squareTimeoutSeconds = Setting("square.timeoutSeconds", default: "15", "whole-call timeout for each Square request (1-120)")
    static let dataDirectory = Setting("data.directory", default: "./data", "where square-onboard.sqlite lives")
    static let resourcesDirectory = Setting(
        "resources.directory",
        shown: "the working directory",
        "the folder holding Templates/ and Public/"
    )
    static let encryptionKeys = Setting(
        "onboard.encryptionKeys",
        shown: "required",
        "kid:base64key[,kid:base64key...]; the first seals, all open ('keys generate' makes one)",
        secret: true
    )
    static let platformName = Setting("platform.name", default: "Demo Platform", "the name merchants see on every page")
    static let frameAncestors = Setting("security.frameAncestors", default: "'none'", "the CSP frame-ancestors source list")
    static let logLevel = Setting("log.level", default: "info", "trace, debug, info, notice, warning, error or critical")
    static let webhookSignatureKey = Setting(
        "square.webhookSignatureKey",
        shown: "none",
        "the signature key of your Square webhook subscription; without it the webhook answers 404",
        secret: true
    )
    static let webhookURL = Setting(
        "square.webhookUrl",
        shown: "<public base URL>/webhooks/square",
        "the webhook notification URL exactly as registered at Square"
    )
    static let refreshEnabled = Setting("refresh.enabled", default: "true", "run the token refresher and status sweep in serve and demo")
    static let webhooksEnabled = Setting("webhooks.enabled", default: "true", "send partners' webhooks from the outbox in serve and demo")
    static let webhooksAllowPrivateTargets = Setting(
        "webhooks.allowPrivateTargets",
        default: "false",
        "let partner webhooks reach loopback, private and link-local addresses (demo and tests; never on a shared network)"
    )
    static let refreshIntervalSeconds = Setting("refresh.intervalSeconds", default: "300", "how often the refresher looks for due connections")
    static let refreshAgeHours = Setting("refresh.ageHours", default: "168", "refresh access tokens older than this")
    static let refreshMarginHours = Setting("refresh.marginHours", default: "72", "refresh access tokens expiring within this")
    static let refreshTokenMarginDays = Setting(
        "refresh.refreshTokenMarginDays",
        default: "30",
        "use a PKCE refresh token before it gets this close to expiry"
    )
    static let refreshConcurrency = Setting("refresh.concurrency", default: "4", "refreshes (and status checks) running at once")
    static let refreshPacingMilliseconds = Setting(
        "refresh.pacingMilliseconds",
        default: "250",
        "the longest random pause between starting two refreshes"
    )
    static let refreshLeaseSeconds = Setting(
        "refresh.leaseSeconds",
        default: "120",
        "how long a refresh holds its row; at least 2 x square.timeoutSeconds + 2"
    )
    static let refreshBackoffSeconds = Setting("refresh.backoffSeconds", default: "60", "first retry delay after a 5xx, 429 or timeout")
    static let refreshMaxBackoffSeconds = Setting("refresh.maxBackoffSeconds", default: "3600", "the longest retry delay")
    static let statusIntervalHours = Setting("status.intervalHours", default: "24", "how often each token is checked with RetrieveTokenStatus")
    static let authorizationLifetimeMinutes = Setting(
        "authorization.lifetimeMinutes",
        default: "10",
        "how long a started connection attempt may take to come back from Square (1-60)"
    )
    static let retentionAuthorizationDays = Setting(
        "retention.authorizationDays",
        default: "30",
        "delete connection attempts this many days after they expired"
    )
    static let retentionSessionDays = Setting("retention.sessionDays", default: "7", "delete merchant sessions this many days after they ended")
    static let retentionSquareEventDays = Setting(
        "retention.squareEventDays",
        default: "30",
        "forget handled Square webhook event ids after this many days (Square retries for at most 3)"
    )
    static let retentionAuditDays = Setting("retention.auditDays", default: "730", "delete audit events older than this many days")
    static let retentionBatchSize = Setting("retention.batchSize", default: "500", "rows deleted per transaction by the retention sweep")
    static let httpIdleTimeoutSeconds = Setting(
        "http.idleTimeoutSeconds",
        default: "30",
        "close a connection idle this long, or whose request head takes longer to arrive (1-3600)"
    )
    static let httpBodyTimeoutSeconds = Setting(
        "http.bodyTimeoutSeconds",
        default: "30",
        "close a connection whose request body takes longer than this after its head (1-3600)"
    )
    static let httpMaxHeaderBytes = Setting(
        "http.maxHeaderBytes",
        default: "16384",
        "the most bytes a request line and its headers may take (4096-1048576)"
    )
    static let httpDrainSeconds = Setting(
        "http.drainSeconds",
        default: "0",
        "after SIGTERM, keep serving this long while /readyz answers draining, then stop accepting connections (0-300)"
    )
    static let httpClientAddressHeader = Setting(
        "http.clientAddressHeader",
        shown: "none",
        "the header your reverse proxy puts the client's address in (X-Forwarded-For, X-Real-IP); without it headers are ignored"
    )
    static let rateLimitStartPerMinute = Setting(
        "rateLimit.startPerMinute",
        default: "10",
        "POST /oauth/start per client per minute, in bursts of up to that many; 0 turns the limit off"
    )
    static let rateLimitCallbackPerMinute = Setting(
        "rateLimit.callbackPerMinute",
        default: "10",
        "GET /oauth/callback per client per minute, in bursts of up to that many; 0 turns the limit off"
    )

    static let rateLimitPartnerAPIPerMinute = Setting(
        "rateLimit.partnerApiPerMinute",
        default: "1200",
        "partner API requests per API key per minute, in bursts of up to that many; 0 turns the limit off"
    )

    static let logFormat = Setting("log.format", default: "text", "text (one readable line per event) or json (one JSON object per line)")
    static let metricsBearerToken = Setting(
        "metrics.bearerToken",
        shown: "none",
        "the token Prometheus sends to read GET /metrics; without it /metrics is off (404)",
        secret: true
    )
    static let adminSessionIdleMinutes = Setting(
        "admin.sessionIdleMinutes",
        default: "30",
        "an admin session ends after this many minutes without a request (1-1440)"
    )
    static let adminSessionLifetimeHours = Setting(
        "admin.sessionLifetimeHours",
        default: "12",
        "an admin session ends this many hours after sign-in, however active (1-720)"
    )
    static let adminSignInMaxFailures = Setting(
        "admin.signInMaxFailures",
        default: "5",
        "failed admin sign-ins allowed per account name within the window (its own lockout: other admins sign in)"
    )
    static let adminSignInMaxFailuresPerAddress = Setting(
        "admin.signInMaxFailuresPerAddress",
        default: "100",
        "failed admin sign-ins allowed from one client address within the window, whatever the names (an office shares one)"
    )
    static let adminSignInWindowMinutes = Setting(
        "admin.signInWindowMinutes",
        default: "15",
        "the window, in minutes, over which failed admin sign-ins are counted"
    )

    /// Every setting the service reads, in the order help lists them.
    package static let all: [Setting] = [
        httpHost, httpPort, publicBaseURL, squareEnvironment, squareEnvironmentName, squareClientId, squareClientSecret, squareRedirectURL,
        squareScopes,
        squareFlow, squareVersion, squareTimeoutSeconds, dataDirectory, resourcesDirectory, encryptionKeys, platformName,
        frameAncestors, logLevel, webhookSignatureKey, webhookURL, refreshEnabled, refreshIntervalSeconds, refreshAgeHours,
        refreshMarginHours, refreshTokenMarginDays, refreshConcurrency, refreshPacingMilliseconds, refreshLeaseSeconds,
        refreshBackoffSeconds, refreshMaxBackoffSeconds, statusIntervalHours, authorizationLifetimeMinutes,
        retentionAuthorizationDays, retentionSessionDays, retentionSquareEventDays, retentionAuditDays, retentionBatchSize,
        httpIdleTimeoutSeconds, httpBodyTimeoutSeconds, httpMaxHeaderBytes, httpDrainSeconds, httpClientAddressHeader, rateLimitStartPerMinute,
        rateLimitCallbackPerMinute, rateLimitPartnerAPIPerMinute, metricsBearerToken, logFormat, webhooksEnabled,
        webhooksAllowPrivateTargets,
        adminSessionIdleMinutes, adminSessionLifetimeHours, adminSignInMaxFailures, adminSignInMaxFailuresPerAddress,
        adminSignInWindowMinutes,
    ]
}

/// Reads settings through the table: literal defaults come from it, and a value of the wrong type is an error naming the key.
struct SettingsReader {
    let reader: ConfigReader

    /// The configured value, else the table's literal default.
    func string(_ setting: Setting) -> String? {
        reader.string(forKey: setting.configKey, isSecret: setting.isSecret) ?? setting.literalDefault
    }

    /// The configured value, else the table's literal default, else `fallback` (for derived defaults).
    func string(_ setting: Setting, else fallback: String) -> String {
        string(setting) ?? fallback
    }

    /// The configured value, else the table's literal default (only for settings that have one).
    func value(_ setting: Setting) -> String {
        string(setting) ?? ""
    }

    /// A whole number in `range`; text that is not a number is rejected, not replaced by the default.
    func int(_ setting: Setting, in range: ClosedRange<Int>) throws -> Int {
        let number: Int?
        if let value = reader.int(forKey: setting.configKey) {
            number = value
        } else if let text = reader.string(forKey: setting.configKey) ?? setting.literalDefault {
            number = Int(text.trimmingCharacters(in: .whitespaces))
        } else {
            number = nil
        }
        guard let number, range.contains(number) else {
            throw ConfigurationError.invalid(setting.key, "must be \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// `true` or `false`; anything else is rejected.
    func bool(_ setting: Setting) throws -> Bool {
        if let value = reader.bool(forKey: setting.configKey) { return value }
        switch reader.string(forKey: setting.configKey)?.lowercased() ?? setting.literalDefault {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError.invalid(setting.key, "must be true or false")
        }
    }
}
