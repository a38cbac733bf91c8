import Foundation
import Hummingbird
import NIOCore

/// Liveness for load balancers and operators.
struct HealthController {
    let store: any OnboardingStore

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/healthz", use: health)
        return routes
    }

    /// GET /healthz — `{"status":"ok"}` when the database answers, 503 otherwise.
    @Sendable func health(request: Request, context: AppRequestContext) async throws -> Response {
        let healthy: Bool
        do {
            try await store.ping()
            healthy = true
        } catch {
            context.logger.error("Health check: the database does not answer", metadata: ["error": "\(error)"])
            healthy = false
        }
        let body = healthy ? #"{"database":"ok","status":"ok"}"# : #"{"database":"unavailable","status":"unavailable"}"#
        return Response(
            status: healthy ? .ok : .serviceUnavailable,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}
