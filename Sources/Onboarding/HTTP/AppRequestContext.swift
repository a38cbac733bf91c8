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
}
