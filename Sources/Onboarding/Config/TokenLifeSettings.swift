import Foundation

/// When and how tokens are refreshed and checked; every value is a `refresh.*` or `status.*` key.
public struct TokenLifeSettings: Sendable {
    /// Whether the background refresher and status sweep run inside `serve` and `demo`.
    public var enabled: Bool
    /// How often the refresher looks for due connections.
    public var interval: Duration
    /// An access token older than this is refreshed (Square: every 7 days or less).
    public var refreshAge: TimeInterval
    /// An access token expiring within this is refreshed, whatever its age.
    public var expiryMargin: TimeInterval
    /// A refresh token (PKCE: 90 days) expiring within this is used before it lapses.
    public var refreshTokenMargin: TimeInterval
    /// How many refreshes run at once; also the status sweep's checks at once (the two passes take turns).
    public var concurrency: Int
    /// How long a refresh lease holds a row; a crashed worker's lease lapses after it.
    public var leaseDuration: TimeInterval
    /// The longest random pause between starting two refreshes, to spread load on Square.
    public var pacing: Duration
    /// The first retry delay after a 5xx, 429 or timeout; doubled per failure up to `maxBackoff`.
    public var backoff: TimeInterval
    public var maxBackoff: TimeInterval
    /// How often each connection's token is checked with RetrieveTokenStatus.
    public var statusCheckInterval: TimeInterval

    init(settings: SettingsReader, squareTimeoutSeconds: Int) throws {
        enabled = try settings.bool(.refreshEnabled)
        interval = .seconds(try settings.int(.refreshIntervalSeconds, in: 1...86_400))
        refreshAge = TimeInterval(try settings.int(.refreshAgeHours, in: 1...(29 * 24))) * 3600
        expiryMargin = TimeInterval(try settings.int(.refreshMarginHours, in: 1...(29 * 24))) * 3600
        refreshTokenMargin = TimeInterval(try settings.int(.refreshTokenMarginDays, in: 1...89)) * 86_400
        concurrency = try settings.int(.refreshConcurrency, in: 1...64)
        let lease = try settings.int(.refreshLeaseSeconds, in: 5...3600)
        // A lease shorter than a whole Square call could lapse while its refresh is still in flight.
        guard lease >= 2 * squareTimeoutSeconds + 2 else {
            throw ConfigurationError.invalid(
                Setting.refreshLeaseSeconds.key,
                "must be at least twice square.timeoutSeconds plus 2 (\(2 * squareTimeoutSeconds + 2))"
            )
        }
        leaseDuration = TimeInterval(lease)
        pacing = .milliseconds(try settings.int(.refreshPacingMilliseconds, in: 0...60_000))
        backoff = TimeInterval(try settings.int(.refreshBackoffSeconds, in: 1...86_400))
        maxBackoff = TimeInterval(try settings.int(.refreshMaxBackoffSeconds, in: 1...604_800))
        statusCheckInterval = TimeInterval(try settings.int(.statusIntervalHours, in: 1...(30 * 24))) * 3600
    }

    /// Whether a connection's tokens should be refreshed now.
    func isDue(_ connection: ConnectionRecord, now: Date) -> Bool {
        if connection.status == .expired { return true }
        if connection.tokenIssuedAt <= now.addingTimeInterval(-refreshAge) { return true }
        if let expiresAt = connection.expiresAt, expiresAt <= now.addingTimeInterval(expiryMargin) { return true }
        if let refreshExpiresAt = connection.refreshTokenExpiresAt, refreshExpiresAt <= now.addingTimeInterval(refreshTokenMargin) {
            return true
        }
        return false
    }

    /// The latest moment the refresher renews this connection's access token: by age or by expiry, whichever is first.
    func nextRenewal(of connection: ConnectionRecord) -> Date {
        let byAge = connection.tokenIssuedAt.addingTimeInterval(refreshAge)
        guard let expiresAt = connection.expiresAt else { return byAge }
        return min(byAge, expiresAt.addingTimeInterval(-expiryMargin))
    }

    /// The delay before retry number `failures` (1-based): doubling from `backoff`, capped, with ±20 % jitter.
    func backoffDelay(failures: Int, retryAfterSeconds: Int? = nil) -> TimeInterval {
        let doubled = backoff * pow(2, Double(max(0, min(failures - 1, 30))))
        let jittered = min(doubled, maxBackoff) * Double.random(in: 0.8...1.2)
        return max(jittered, TimeInterval(retryAfterSeconds ?? 0))
    }
}
