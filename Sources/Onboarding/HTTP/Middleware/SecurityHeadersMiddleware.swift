import HTTPTypes
import Hummingbird

/// Adds the security headers every answer carries, and `no-store` on everything but the static files under `/assets/`.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let contentSecurityPolicy: String
    /// `Strict-Transport-Security`, sent when the public base URL is https (browsers ignore it over plain http).
    let strictTransportSecurity: String?

    init(squareOrigin: String, frameAncestors: String, publicURLIsHTTPS: Bool = false) {
        strictTransportSecurity = publicURLIsHTTPS ? "max-age=31536000" : nil
        // form-action must allow Square: Chrome applies it to the redirect that follows POST /oauth/start.
        contentSecurityPolicy = [
            "default-src 'self'", "img-src 'self' data:", "style-src 'self'", "script-src 'self'",
            "form-action 'self' \(squareOrigin)", "frame-ancestors \(frameAncestors)", "base-uri 'none'",
            "object-src 'none'",
        ].joined(separator: "; ")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        apply(to: &response, path: request.uri.path)
        return response
    }

    /// Sets the headers on `response`, an answer to a request for `path`.
    func apply(to response: inout Response, path: String) {
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        if let strictTransportSecurity { response.headers[.strictTransportSecurity] = strictTransportSecurity }
        // The flow's own pages keep their opener: in popup mode a partner's page opened them and waits for the result.
        response.headers[.crossOriginOpenerPolicy] = Self.isFlowPage(path) ? "unsafe-none" : "same-origin"
        if !(Self.isStaticAsset(path) && (200..<400).contains(response.status.code)) {
            response.headers[.cacheControl] = "no-store"
        }
    }

    /// A page a popup-mode flow passes through: a partner's link, the start, Square's callback.
    static func isFlowPage(_ path: String) -> Bool {
        path.hasPrefix("/connect/") || path.hasPrefix("/oauth/")
    }

    /// A file of `Public/`, served by `PublicFiles` under its own prefix.
    static func isStaticAsset(_ path: String) -> Bool {
        path.hasPrefix(PublicFiles.urlPrefix + "/")
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let crossOriginOpenerPolicy = Self("Cross-Origin-Opener-Policy")!
}
