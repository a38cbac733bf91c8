import Foundation
import Hummingbird
import NIOCore
import OnboardCrypto
import SquareOAuth

/// Prometheus metrics at `/metrics`, behind `MetricsBearerMiddleware`.
struct MetricsController {
    let store: any AuditLog & WebhookOutboxStore & DashboardStore
    let environment: String
    let clock: AppClock

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/metrics", use: metrics)
        return routes
    }

    /// GET /metrics — the Prometheus text format, after refreshing the connections-by-status gauge.
    @Sendable func metrics(request: Request, context: AppRequestContext) async throws -> Response {
        let now = clock.now()
        if let overview = try? await store.connectionOverview(environment: environment, now: now, expiringBefore: now, failuresSince: now) {
            Telemetry.connections(overview.countsByStatus)
        }
        if let pending = try? await store.pendingWebhookCount() { Telemetry.webhookOutbox(pending: pending) }
        var text: [UInt8] = []
        Telemetry.registry.emit(into: &text)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text))
        )
    }
}

/// The `/metrics` group's check: off (404) unless `metrics.bearerToken` is set, then a 401 without that bearer token.
struct MetricsBearerMiddleware<Context: RequestContext>: RouterMiddleware {
    let bearerToken: Secret?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let bearerToken else { throw OnboardingError.notFound }
        let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let given, ConstantTime.equals(given, bearerToken.value) else {
            return Response(
                status: .unauthorized,
                headers: [.wwwAuthenticate: #"Bearer realm="metrics""#, .contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "a bearer token is required\n"))
            )
        }
        return try await next(request, context)
    }
}
