import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body has not fully arrived `timeout` after its head, however it trickles in.
///
/// Hummingbird's idle timeout counts every body chunk as activity, so a client sending a byte a second would keep a
/// connection (and the handler reading its body) forever; this deadline bounds the whole body.
final class RequestBodyTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let timeout: TimeAmount
    let logger: Logger
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let (timeout, logger) = (timeout, logger)
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                logger.notice("Closed a connection whose request body took longer than \(timeout.nanoseconds / 1_000_000_000) s")
                context.close(promise: nil)
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}

extension EdgeSettings {
    /// The HTTP/1.1 server's limits: the idle timeout (which also bounds a slow request head), the body deadline and
    /// the size of a request head.
    func http1Configuration(logger: Logger) -> HTTP1Channel.Configuration {
        let bodyTimeout = TimeAmount(bodyTimeout)
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestBodyTimeoutHandler(timeout: bodyTimeout, logger: logger)],
            idleTimeout: TimeAmount(idleTimeout),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: 100)
        )
    }
}
