import Foundation
import HTTPTypes

/// How the HTTP edge protects itself; every value is an `http.*` or `rateLimit.*` key of `Setting.all`.
public struct EdgeSettings: Sendable {
    /// A connection that completes no request part for this long is closed: an idle keep-alive, or a request head
    /// (request line and headers) still incomplete after it, however slowly its bytes keep coming.
    public var idleTimeout: Duration
    /// A request body must have arrived completely this long after its head, or the connection is closed.
    public var bodyTimeout: Duration
    /// The most bytes a request line and its headers may take; a larger head is answered 400 and closed.
    public var maxHeaderBytes: Int
    /// After a graceful shutdown begins, how long to keep accepting requests while `/readyz` answers "draining".
    public var drainDelay: Duration
    /// The header a trusted reverse proxy puts the client's address in; nil means the peer's address is the client.
    public var clientAddressHeader: HTTPField.Name?
    /// `POST /oauth/start` per client per minute (the burst size too); 0 means no limit.
    public var startPerMinute: Int
    /// `GET /oauth/callback` per client per minute (the burst size too); 0 means no limit.
    public var callbackPerMinute: Int
    /// Partner API requests per API key per minute (the burst size too); 0 means no limit.
    public var partnerAPIPerMinute: Int

    init(settings: SettingsReader) throws {
        idleTimeout = .seconds(try settings.int(.httpIdleTimeoutSeconds, in: 1...3600))
        bodyTimeout = .seconds(try settings.int(.httpBodyTimeoutSeconds, in: 1...3600))
        maxHeaderBytes = try settings.int(.httpMaxHeaderBytes, in: 4096...1_048_576)
        drainDelay = .seconds(try settings.int(.httpDrainSeconds, in: 0...300))
        let header = settings.string(.httpClientAddressHeader)?.trimmingCharacters(in: .whitespaces) ?? ""
        if header.isEmpty {
            clientAddressHeader = nil
        } else if let name = HTTPField.Name(header) {
            clientAddressHeader = name
        } else {
            throw ConfigurationError.invalid(Setting.httpClientAddressHeader.key, "must be a header name such as X-Forwarded-For")
        }
        startPerMinute = try settings.int(.rateLimitStartPerMinute, in: 0...100_000)
        callbackPerMinute = try settings.int(.rateLimitCallbackPerMinute, in: 0...100_000)
        partnerAPIPerMinute = try settings.int(.rateLimitPartnerAPIPerMinute, in: 0...1_000_000)
    }
}
