import Hummingbird

/// A token bucket per API key on every partner API operation, with IETF `RateLimit-*` headers on each answer and
/// `Retry-After` on a 429.
///
/// Buckets live in this process (`RateLimiter`): each key has its own, so one partner's burst never takes from
/// another partner's, and merchant pages have limits of their own. Behind several instances a key gets each
/// instance's allowance; the limit protects an instance, it is not a quota.
struct PartnerRateLimitMiddleware: RouterMiddleware {
    typealias Context = PartnerRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let quota = limiter.takeCounting(for: context.caller.key.prefix)
        let headers: HTTPFields = [
            .init("RateLimit-Limit")!: String(limiter.perMinute),
            .init("RateLimit-Remaining")!: String(quota.remaining),
            .init("RateLimit-Reset")!: String(quota.fullInSeconds),
        ]
        guard case .limited(let seconds, let isFirst) = quota.decision else {
            var response = try await next(request, context)
            response.headers.append(contentsOf: headers)
            return response
        }
        if isFirst {
            context.logger.notice(
                "Partner API rate-limited: over \(limiter.perMinute) per minute",
                metadata: ["partner_id": .string(context.caller.partner.id), "key_prefix": .string(context.caller.key.prefix)]
            )
        }
        var response = PartnerAPIErrors.answer(
            .tooManyRequests,
            code: "rate_limited",
            message: "more than \(limiter.perMinute) requests a minute with this API key; retry after \(seconds) s"
        )
        response.headers.append(contentsOf: headers)
        response.headers[.retryAfter] = String(seconds)
        return response
    }
}
