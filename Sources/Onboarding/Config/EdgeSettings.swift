/// How the HTTP edge protects itself; every value is an `http.*` key of `Setting.all`.
public struct EdgeSettings: Sendable {
    /// A connection that completes no request part for this long is closed: an idle keep-alive, or a request head
    /// (request line and headers) still incomplete after it, however slowly its bytes keep coming.
    public var idleTimeout: Duration
    /// A request body must have arrived completely this long after its head, or the connection is closed.
    public var bodyTimeout: Duration
    /// The most bytes a request line and its headers may take; a larger head is answered 400 and closed.
    public var maxHeaderBytes: Int

    init(settings: SettingsReader) throws {
        idleTimeout = .seconds(try settings.int(.httpIdleTimeoutSeconds, in: 1...3600))
        bodyTimeout = .seconds(try settings.int(.httpBodyTimeoutSeconds, in: 1...3600))
        maxHeaderBytes = try settings.int(.httpMaxHeaderBytes, in: 4096...1_048_576)
    }
}
