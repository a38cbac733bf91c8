import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OnboardCrypto

/// Guards every form POST of a route group: the origin must be ours, and the form's `csrf_token` must match.
///
/// The token is the first line (compared in constant time with what `expectedToken` reads from the session or
/// cookie); `Origin` and `Sec-Fetch-Site` are a second line that refuses cross-site posts even with a token.
/// Handlers behind it read the already collected body, bounded to `maxFormBytes`.
struct CSRFMiddleware<Context: RequestContext>: RouterMiddleware {
    static var maxFormBytes: Int { 4096 }
    /// Our public origin, e.g. `https://onboard.example.com`.
    let allowedOrigin: String
    /// The token this request's form must carry, from the session or a cookie; nil refuses every POST.
    let expectedToken: @Sendable (Request, Context) -> String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        guard isSameOrigin(request) else {
            context.logger.warning("Cross-origin form post refused")
            throw OnboardingError.csrfRejected
        }
        var request = request
        let body = try await request.collectBody(upTo: Self.maxFormBytes)
        guard let expected = expectedToken(request, context), let given = Self.csrfToken(in: body),
            ConstantTime.equals(given, expected)
        else { throw OnboardingError.csrfRejected }
        return try await next(request, context)
    }

    /// True unless the browser says the post comes from another site.
    ///
    /// `Origin: null` is let through to the token check: our pages send `Referrer-Policy: no-referrer`, under which
    /// browsers send `null` for their own same-origin form posts; `Sec-Fetch-Site` still tells those apart.
    func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[.secFetchSite], site != "same-origin", site != "none" { return false }
        if let origin = request.headers[.origin], origin != "null", origin != allowedOrigin { return false }
        return true
    }

    /// The `csrf_token` field of a form body.
    static func csrfToken(in body: ByteBuffer) -> String? {
        (try? URLEncodedFormDecoder().decode(CSRFForm.self, from: String(buffer: body)))?.csrf_token
    }
}

/// The one field every form of ours carries.
private struct CSRFForm: Decodable {
    var csrf_token: String?
}

extension HTTPField.Name {
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
