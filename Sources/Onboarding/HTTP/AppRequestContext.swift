import Hummingbird
import NIOCore

/// The request context every route starts with; each realm's group derives its own from it.
struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection's peer (behind a reverse proxy, the proxy): the admin sign-in throttle counts per client address.
    let remoteAddress: SocketAddress?

    init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
