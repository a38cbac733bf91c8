import Hummingbird

/// Logs method, path (never the query: it carries codes and state), status and duration.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        context.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: ["duration_ms": .stringConvertible(Int((ContinuousClock.now - started) / .milliseconds(1)))]
        )
        return response
    }
}
