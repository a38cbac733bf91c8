import Foundation

/// The admin dashboard's sessions and sign-in throttle: every value is an `admin.*` key.
public struct AdminSettings: Sendable {
    /// A session ends when no request comes for this long.
    public var sessionIdleTimeout: TimeInterval
    /// A session ends this long after sign-in, however active it is.
    public var sessionLifetime: TimeInterval
    /// Failed sign-ins allowed per account name within `signInWindow`: one admin's typos never lock out another.
    public var signInMaxFailures: Int
    /// Failed sign-ins allowed per client address within `signInWindow`, whatever the names: far more, since an
    /// office or a VPN shares one address.
    public var signInMaxFailuresPerAddress: Int
    public var signInWindow: TimeInterval

    init(settings: SettingsReader) throws {
        sessionIdleTimeout = TimeInterval(try settings.int(.adminSessionIdleMinutes, in: 1...1440)) * 60
        sessionLifetime = TimeInterval(try settings.int(.adminSessionLifetimeHours, in: 1...720)) * 3600
        signInMaxFailures = try settings.int(.adminSignInMaxFailures, in: 1...1000)
        signInMaxFailuresPerAddress = try settings.int(.adminSignInMaxFailuresPerAddress, in: 1...100_000)
        signInWindow = TimeInterval(try settings.int(.adminSignInWindowMinutes, in: 1...1440)) * 60
    }
}
