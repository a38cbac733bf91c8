import Foundation
import Hummingbird
import OnboardCrypto

/// The fields `POST /oauth/start` reads besides the CSRF token.
private struct StartForm: Decodable {
    var link: String?
}

/// The merchant's way in: the connect page, the start of an authorization, and Square's callback.
struct ConnectController {
    let service: OnboardingService
    let pages: PageRenderer
    let cookies: BrowserCookies
    /// The connect page, rendered once: only its CSRF token changes per request.
    let connectPage: PrerenderedPage
    static let maxCallbackQueryBytes = 4096

    init(service: OnboardingService, pages: PageRenderer, cookies: BrowserCookies) {
        self.service = service
        self.pages = pages
        self.cookies = cookies
        let marker = SecureRandom.urlSafeToken()
        connectPage = PrerenderedPage(
            renderer: pages,
            template: "connect",
            model: ConnectPageModel(configuration: service.configuration, csrfToken: marker),
            marker: marker
        )
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/", use: showConnectPage)
        routes.get("/connect/{link}", use: linkPage)
        routes.post("/oauth/start", use: start)
        routes.get("/oauth/callback", use: callback)
        // A HEAD (a mail scanner checking the link) must not spend the one-time state as the GET would.
        routes.head("/oauth/callback") { _, _ in Response(status: .methodNotAllowed, headers: [.allow: "GET"]) }
        return routes
    }

    /// The CSRF token a form on the connect page carries: a double-submit cookie, since no session exists yet.
    func expectedCSRFToken(request: Request, context: AppRequestContext) -> String? {
        cookies.value(cookies.csrf, in: request)
    }

    /// GET / — who asks for what, and a Connect button.
    @Sendable func showConnectPage(request: Request, context: AppRequestContext) async throws -> Response {
        // `value(_:in:)` keeps only a Base64URL cookie, so a planted one cannot put markup on the page.
        let csrf = cookies.value(cookies.csrf, in: request) ?? SecureRandom.urlSafeToken()
        var response = connectPage.response(token: csrf)
        response.setCookie(cookies.make(cookies.csrf, value: csrf, maxAge: 3600))
        return response
    }

    /// GET /connect/{link} — a partner's link: the connect page under the partner's name, for the link's scopes.
    @Sendable func linkPage(request: Request, context: AppRequestContext) async throws -> Response {
        let id = context.parameters.get("link") ?? ""
        let found: OnboardingService.FoundLink
        do {
            found = try await service.openableLink(id: id)
        } catch {
            if let redirect = await refreshRedirect(deadLink: id, error: error) { return redirect }
            throw error
        }
        let csrf = cookies.value(cookies.csrf, in: request) ?? SecureRandom.urlSafeToken()
        var response = pages.page(
            "connect",
            ConnectPageModel(configuration: service.configuration, csrfToken: csrf, link: found.link, partnerName: found.partner.displayName)
        )
        response.setCookie(cookies.make(cookies.csrf, value: csrf, maxAge: 3600))
        return response
    }

    /// POST /oauth/start — creates the authorization and sends the browser to Square's consent page (CSRF checked before).
    @Sendable func start(request: Request, context: AppRequestContext) async throws -> Response {
        // A binding we signed is kept (several tabs may connect at once); anything else, planted or not, is replaced.
        let binding = cookies.binding(in: request) ?? SecureRandom.urlSafeToken()
        let form = try await request.decode(as: StartForm.self, context: context)
        let linkId = form.link.flatMap { $0.isEmpty ? nil : $0 }
        let url: URL
        do {
            url = try await service.startAuthorization(browserBinding: binding, linkId: linkId)
        } catch {
            // The link died while its page was open: the partner's refresh URL, when it has one, as on the link itself.
            guard let linkId, let redirect = await refreshRedirect(deadLink: linkId, error: error) else { throw error }
            return redirect
        }
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
        let outcome: Result<OnboardingService.MerchantSessionGrant, OnboardingError>
        do {
            outcome = .success(try await service.completeAuthorization(callback, browserBinding: cookies.bindingToken(in: request)))
        } catch {
            outcome = .failure(error)
        }
        if case .failure(let failure) = outcome, failure.happensAfterStateAccepted,
            let partnerReturn = await service.partnerReturn(afterFailedCallbackWithState: callback.state, error: failure)
        {
            // A partner's merchant goes back to the partner with the outcome; anyone else sees our page for it.
            return partnerAnswer(partnerReturn)
        }
        let grant = try outcome.get()
        var response =
            grant.partnerReturn.map(partnerAnswer) ?? Response(status: .seeOther, headers: [.location: "/connection?connected=1"])
        response.setCookie(cookies.make(cookies.session, value: grant.token, maxAge: Int(OnboardingService.merchantSessionLifetime)))
        return response
    }

    /// A dead link's way on: a redirect to the partner's refresh URL (signed) when it has one; nil leaves the error page.
    func refreshRedirect(deadLink id: String, error: OnboardingError) async -> Response? {
        switch error {
        case .linkUsed, .linkExpired, .linkCancelled:
            guard let refresh = await service.refreshRedirect(forDeadLink: id) else { return nil }
            return Response(status: .seeOther, headers: [.location: refresh.url.absoluteString])
        default:
            return nil
        }
    }

    /// Back to the partner: a redirect, or in popup mode a page whose script reports to the opener and closes.
    func partnerAnswer(_ partnerReturn: PartnerReturn) -> Response {
        guard partnerReturn.mode == .popup else { return Response(status: .seeOther, headers: [.location: partnerReturn.url.absoluteString]) }
        return pages.page("popup-result", PopupResultPageModel(partnerReturn))
    }
}
