import Foundation
import Hummingbird
import OnboardCrypto

/// Signing in to and out of the admin dashboard.
struct AdminSignInController {
    let sessions: AdminSessions
    let pages: PageRenderer
    let cookies: BrowserCookies
    let settings: AdminSettings
    /// Who a request comes from, for the sign-in throttle: the same rule as the merchant rate limits.
    let clientAddress: ClientAddress

    /// The sign-in form and its post: no session needed.
    var signInEndpoints: RouteCollection<AdminSessionContext> {
        let routes = RouteCollection(context: AdminSessionContext.self)
        routes.get("/admin/login", use: signInPage)
        routes.post("/admin/login", use: signIn)
        routes.post("/admin/login/code", use: signInCode)
        return routes
    }

    /// Signing out: needs the session and its CSRF token.
    var signedInEndpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.post("/admin/logout", use: signOut)
        return routes
    }

    /// The sign-in form's token: a double-submit cookie, since no session exists yet.
    func expectedCSRFToken(request: Request, context: AdminSessionContext) -> String? {
        cookies.value(cookies.csrf, in: request)
    }

    /// The fields of the sign-in form.
    struct SignInForm: Decodable {
        var name: String?
        var password: String?
        var next: String?
    }

    /// The fields of the code step's form.
    struct CodeForm: Decodable {
        var challenge: String?
        var code: String?
        var next: String?
    }

    /// GET /admin/login — the form; a browser already signed in goes straight on.
    @Sendable func signInPage(request: Request, context: AdminSessionContext) async throws -> Response {
        let next = AdminRedirect.localAdminPath(request.uri.queryParameters.get("next"))
        if context.identity != nil { return Response(status: .seeOther, headers: [.location: next]) }
        return page(request, next: next, signedOut: request.uri.queryParameters.get("signed_out") == "1")
    }

    /// POST /admin/login — checks name and password (CSRF checked before); a session and back to `next`, or the form again.
    @Sendable func signIn(request: Request, context: AdminSessionContext) async throws -> Response {
        let form = try await request.decode(as: SignInForm.self, context: context)
        let next = AdminRedirect.localAdminPath(form.next)
        let name = String((form.name ?? "").prefix(64))
        do {
            let signedIn = try await sessions.signIn(
                name: form.name ?? "",
                password: form.password ?? "",
                clientAddress: clientAddress.key(for: request, peer: context.remoteAddress),
                previousToken: cookies.value(cookies.adminSession, in: request)
            )
            var response = Response(status: .seeOther, headers: [.location: next])
            response.setCookie(cookies.make(cookies.adminSession, value: signedIn.token, maxAge: Int(settings.sessionLifetime)))
            return response
        } catch {
            if case .secondFactorRequired(let challenge) = error { return codePage(request, challenge: challenge, next: next) }
            // A failure shows the form again with its status; anything else is the realm's error page.
            guard error.isSignInRefusal else { throw error }
            var response = page(request, next: next, name: name, error: error)
            if case .signInThrottled(let seconds) = error { response.headers[.retryAfter] = String(seconds) }
            return response
        }
    }

    /// POST /admin/login/code — the second step for an admin with a second factor (CSRF checked before).
    @Sendable func signInCode(request: Request, context: AdminSessionContext) async throws -> Response {
        let form = try await request.decode(as: CodeForm.self, context: context)
        let next = AdminRedirect.localAdminPath(form.next)
        let challenge = String((form.challenge ?? "").prefix(512))
        do {
            let signedIn = try await sessions.completeSignIn(
                challenge: challenge,
                code: String((form.code ?? "").prefix(64)),
                clientAddress: clientAddress.key(for: request, peer: context.remoteAddress),
                previousToken: cookies.value(cookies.adminSession, in: request)
            )
            var response = Response(status: .seeOther, headers: [.location: next])
            response.setCookie(cookies.make(cookies.adminSession, value: signedIn.token, maxAge: Int(settings.sessionLifetime)))
            return response
        } catch {
            switch error {
            case .secondFactorCodeWrong: return codePage(request, challenge: challenge, next: next, error: error)
            case .signInThrottled(let seconds):
                var response = page(request, next: next, error: error)
                response.headers[.retryAfter] = String(seconds)
                return response
            case .signInFailed: return page(request, next: next, error: .signInFailed)
            default: throw error
            }
        }
    }

    /// The code step's form, carrying the signed challenge of the checked password.
    private func codePage(_ request: Request, challenge: String, next: String, error: AdminError? = nil) -> Response {
        let csrf = cookies.value(cookies.csrf, in: request) ?? SecureRandom.urlSafeToken()
        let model = AdminSignInCodePageModel(
            platformName: pages.platformName,
            csrfToken: csrf,
            next: next,
            challenge: challenge,
            error: error?.message
        )
        var response = pages.page("admin/login-code", model, status: error?.status ?? .ok)
        response.setCookie(cookies.make(cookies.csrf, value: csrf, maxAge: 3600))
        return response
    }

    /// POST /admin/logout — ends the session here and in the database (CSRF checked before).
    @Sendable func signOut(request: Request, context: AdminRequestContext) async throws -> Response {
        try await sessions.signOut(context.admin, clientAddress: clientAddress.key(for: request, peer: context.remoteAddress))
        var response = Response(status: .seeOther, headers: [.location: "/admin/login?signed_out=1"])
        response.setCookie(cookies.make(cookies.adminSession, value: "", maxAge: 0))
        return response
    }

    /// The sign-in form with its double-submit token (kept if the browser has one), and the error's status.
    private func page(_ request: Request, next: String, name: String = "", error: AdminError? = nil, signedOut: Bool = false) -> Response {
        let csrf = cookies.value(cookies.csrf, in: request) ?? SecureRandom.urlSafeToken()
        let model = AdminSignInPageModel(
            platformName: pages.platformName,
            csrfToken: csrf,
            next: next,
            name: name,
            error: error?.message,
            signedOut: signedOut,
            nameTyped: !name.isEmpty
        )
        var response = pages.page("admin/login", model, status: error?.status ?? .ok)
        response.setCookie(cookies.make(cookies.csrf, value: csrf, maxAge: 3600))
        return response
    }
}
