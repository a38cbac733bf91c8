import Hummingbird
import NIOCore

/// The request context every route starts with; each realm's group derives its own from it.
struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer's address (a reverse proxy's, behind one); nil in router tests, which have no socket.
    let remoteAddress: SocketAddress?

    init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Forms are this realm's bodies: `request.decode` reads them (bounded as the CSRF check bounds them); one that
    /// cannot be decoded is a 400.
    var requestDecoder: FormRequestDecoder { FormRequestDecoder() }
    var maxUploadSize: Int { CSRFMiddleware<Self>.maxFormBytes }
}
