import Hummingbird

/// Per-client limits on named routes of a group: over its limit a client gets the 429 page with `Retry-After`.
///
/// A route is named by method and router path (`context.endpointPath`), so every spelling the router matches
/// (`/oauth/start/`) counts against the same limit. Routes not named pass freely. The client is `ClientAddress`'s key.
struct RateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    /// One limited route and the limiter that counts it.
    struct Rule: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let limiter: RateLimiter
    }

    let clientAddress: ClientAddress
    private(set) var rules: [Rule] = []

    init(clientAddress: ClientAddress) {
        self.clientAddress = clientAddress
    }

    /// This middleware with `method path` limited to `perMinute` requests per client per minute; 0 leaves it open.
    func limiting(_ method: HTTPRequest.Method, _ path: String, perMinute: Int) -> Self {
        guard perMinute > 0 else { return self }
        var copy = self
        copy.rules.append(Rule(method: method, path: path, limiter: RateLimiter(perMinute: perMinute)))
        return copy
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let rule = rules.first(where: { $0.method == request.method && $0.path == context.endpointPath }) else {
            return try await next(request, context)
        }
        let client = clientAddress.key(for: request, peer: context.remoteAddress)
        switch rule.limiter.take(for: client) {
        case .allowed:
            return try await next(request, context)
        case .limited(let seconds, let isFirst):
            if isFirst {
                context.logger.notice(
                    "\(rule.method) \(rule.path) rate-limited: over \(rule.limiter.perMinute) per minute",
                    metadata: ["client": .string(client)]
                )
            }
            throw OnboardingError.tooManyRequests(retryAfterSeconds: seconds)
        }
    }
}
