import Foundation
import Hummingbird
import NIOCore
import OnboardCrypto

/// Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can serve) for load balancers and operators.
struct HealthController {
    let store: any AuditLog
    let pages: PageRenderer
    let keyRing: KeyRing
    let drain: DrainState

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/healthz", use: health)
        routes.get("/readyz", use: ready)
        return routes
    }

    /// GET /healthz — `{"status":"ok"}` while the process runs; touches nothing, so a slow database never restarts it.
    @Sendable func health(request: Request, context: AppRequestContext) async throws -> Response {
        Self.json(#"{"status":"ok"}"#, status: .ok)
    }

    /// GET /readyz — 200 when the database takes a write, the templates are loaded, the active key seals and opens, and
    /// no shutdown has begun; otherwise 503 with the state of each check (`status` is `draining` during a shutdown).
    @Sendable func ready(request: Request, context: AppRequestContext) async throws -> Response {
        var checks: [(name: String, state: String)] = []
        do {
            try await store.checkWritable()
            checks.append(("database", "ok"))
        } catch {
            context.logger.error("Readiness: the database does not take a write", metadata: ["error": "\(error)"])
            checks.append(("database", "unavailable"))
        }
        checks.append(("templates", pages.hasEveryTemplate ? "ok" : "missing"))
        checks.append(("encryptionKeys", keysWork ? "ok" : "failing"))
        let draining = drain.isDraining
        checks.append(("shutdown", draining ? "draining" : "no"))
        let failing = checks.dropLast().contains { $0.state != "ok" }
        let status = draining ? "draining" : failing ? "unavailable" : "ok"
        let listed = checks.map { #""\#($0.name)":"\#($0.state)""# }.joined(separator: ",")
        return Self.json(#"{"status":"\#(status)","checks":{\#(listed)}}"#, status: status == "ok" ? .ok : .serviceUnavailable)
    }

    /// Whether the active key seals a probe value and the ring opens it again.
    private var keysWork: Bool {
        guard let sealed = try? keyRing.seal("readiness probe", context: "readyz") else { return false }
        return (try? keyRing.openString(sealed, context: "readyz")) == "readiness probe"
    }

    private static func json(_ body: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}
