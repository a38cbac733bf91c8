import Foundation

/// The admin dashboard's sessions and sign-in throttle: every value is an `admin.*` key.
public struct AdminSettings: Sendable {
    /// A session ends when no request comes for this long.
    public var sessionIdleTimeout: TimeInterval
    /// A session ends this long after sign-in, however active it is.
    public var sessionLifetime: TimeInterval
    /// Failed sign-ins allowed per account name, and per client address, within `signInWindow`.
    public var signInMaxFailures: Int
    public var signInWindow: TimeInterval
    /// The request header a reverse proxy puts the client's address in; nil means the connection's peer address.
    public var clientAddressHeader: String?

    init(settings: SettingsReader) throws {
        sessionIdleTimeout = TimeInterval(try settings.int(.adminSessionIdleMinutes, in: 1...1440)) * 60
        sessionLifetime = TimeInterval(try settings.int(.adminSessionLifetimeHours, in: 1...720)) * 3600
        signInMaxFailures = try settings.int(.adminSignInMaxFailures, in: 1...1000)
        signInWindow = TimeInterval(try settings.int(.adminSignInWindowMinutes, in: 1...1440)) * 60
        let header = settings.string(.adminClientAddressHeader)?.trimmingCharacters(in: .whitespaces) ?? ""
        guard header.isEmpty || Self.isHeaderName(header) else {
            throw ConfigurationError.invalid(Setting.adminClientAddressHeader.key, "must be a header name such as X-Forwarded-For")
        }
        clientAddressHeader = header.isEmpty ? nil : header
    }

    /// Letters, digits and `-`, at most 64: the header names proxies use.
    static func isHeaderName(_ name: String) -> Bool {
        name.utf8.count <= 64
            && name.utf8.allSatisfy { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}
