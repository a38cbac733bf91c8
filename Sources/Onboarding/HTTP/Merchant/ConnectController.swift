import Foundation
import Hummingbird
import OnboardCrypto

/// The merchant's way in: the connect page, the start of an authorization, and Square's callback.
struct ConnectController {
    let service: OnboardingService
    let pages: PageRenderer
    let cookies: BrowserCookies
    /// The connect page's model, built once: only its CSRF token changes per request.
    let connectPageModel: ConnectPageModel
    static let maxCallbackQueryBytes = 4096

    init(service: OnboardingService, pages: PageRenderer, cookies: BrowserCookies) {
        self.service = service
        self.pages = pages
        self.cookies = cookies
        connectPageModel = ConnectPageModel(configuration: service.configuration, csrfToken: "")
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/", use: connectPage)
        routes.post("/oauth/start", use: start)
        routes.get("/oauth/callback", use: callback)
        return routes
    }

    /// The CSRF token a form on the connect page carries: a double-submit cookie, since no session exists yet.
    func expectedCSRFToken(request: Request, context: AppRequestContext) -> String? {
        cookies.value(cookies.csrf, in: request)
    }

    /// GET / — who asks for what, and a Connect button.
    @Sendable func connectPage(request: Request, context: AppRequestContext) async throws -> Response {
        let csrf = cookies.value(cookies.csrf, in: request) ?? SecureRandom.urlSafeToken()
        var model = connectPageModel
        model.csrfToken = csrf
        var response = pages.page("connect", model)
        response.setCookie(cookies.make(cookies.csrf, value: csrf, maxAge: 3600))
        return response
    }

    /// POST /oauth/start — creates the authorization and sends the browser to Square's consent page (CSRF checked before).
    @Sendable func start(request: Request, context: AppRequestContext) async throws -> Response {
        // A binding we signed is kept (several tabs may connect at once); anything else, planted or not, is replaced.
        let binding = cookies.binding(in: request) ?? SecureRandom.urlSafeToken()
        let url = try await service.startAuthorization(browserBinding: binding)
        var response = Response(status: .seeOther, headers: [.location: url.absoluteString])
        response.setCookie(cookies.bindingCookie(binding))
        return response
    }

    /// GET /oauth/callback — Square's answer: checks the state, exchanges the code, opens the merchant's session.
    @Sendable func callback(request: Request, context: AppRequestContext) async throws -> Response {
        guard (request.uri.query?.utf8.count ?? 0) <= Self.maxCallbackQueryBytes else { throw OnboardingError.malformedCallback }
        let query = request.uri.queryParameters
        let callback = OnboardingService.Callback(
            state: query.get("state"),
            code: query.get("code"),
            error: query.get("error")
        )
        for value in [callback.state, callback.code, callback.error] {
            guard (value?.utf8.count ?? 0) <= 1024 else { throw OnboardingError.malformedCallback }
        }
        let grant = try await service.completeAuthorization(callback, browserBinding: cookies.bindingToken(in: request))
        var response = Response(status: .seeOther, headers: [.location: "/connection?connected=1"])
        response.setCookie(cookies.make(cookies.session, value: grant.token, maxAge: Int(OnboardingService.merchantSessionLifetime)))
        return response
    }
}
