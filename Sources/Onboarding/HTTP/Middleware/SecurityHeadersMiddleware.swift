import HTTPTypes
import Hummingbird

/// Adds the security headers every answer carries, and `no-store` on everything but static files.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let contentSecurityPolicy: String

    init(squareOrigin: String, frameAncestors: String) {
        // form-action must allow Square: Chrome applies it to the redirect that follows POST /oauth/start.
        contentSecurityPolicy = [
            "default-src 'self'", "img-src 'self' data:", "style-src 'self'", "script-src 'self'",
            "form-action 'self' \(squareOrigin)", "frame-ancestors \(frameAncestors)", "base-uri 'none'",
            "object-src 'none'",
        ].joined(separator: "; ")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.init("Cross-Origin-Opener-Policy")!] = "same-origin"
        if !Self.isStaticAsset(request.uri.path) {
            response.headers[.cacheControl] = "no-store"
        }
        return response
    }

    static func isStaticAsset(_ path: String) -> Bool {
        ["/style.css", "/favicon.svg", "/logo.svg"].contains(path)
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
}
