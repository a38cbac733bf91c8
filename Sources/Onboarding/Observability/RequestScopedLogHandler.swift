import Logging

/// The request a task is serving, for log lines written through loggers that are not the request's own.
enum RequestScope {
    /// The request id of the request this task serves; nil outside a request (the refresher, start-up).
    @TaskLocal static var requestId: String?
}

/// Wraps a handler so every line written while a request is served carries its id (`hb.request.id`), also the lines of
/// services built once with the process's logger: the Square client, the onboarding service.
struct RequestScopedLogHandler: LogHandler {
    var wrapped: any LogHandler

    /// `logger` with its handler wrapped (once).
    static func scoped(_ logger: Logger) -> Logger {
        guard !(logger.handler is RequestScopedLogHandler) else { return logger }
        var logger = logger
        logger.handler = RequestScopedLogHandler(wrapped: logger.handler)
        return logger
    }

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        guard let requestId = RequestScope.requestId, wrapped[metadataKey: "hb.request.id"] == nil else {
            return wrapped.log(event: event)
        }
        var event = event
        event.metadata = (event.metadata ?? [:]).merging(["hb.request.id": .string(requestId)]) { own, _ in own }
        wrapped.log(event: event)
    }
}
