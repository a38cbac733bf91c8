import Hummingbird

/// The merchant's view of their connection, and the Disconnect button.
struct ConnectionController {
    let service: OnboardingService
    let pages: PageRenderer
    let cookies: BrowserCookies

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/connection", use: show)
        routes.post("/connection/disconnect", use: disconnect)
        return routes
    }

    /// GET /connection — merchant id, permissions, expiry and status, for the browser that connected.
    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let (session, connection) = try service.merchantSession(token: request.cookies[cookies.session]?.value)
        return pages.page(
            "connection",
            ConnectionPageModel(
                connection: connection,
                csrfToken: session.csrfToken,
                platformName: service.configuration.platformName,
                justConnected: request.uri.queryParameters.get("connected") == "1" && connection.status == "active"
            )
        )
    }

    struct DisconnectForm: Decodable {
        var csrf_token: String?
    }

    /// POST /connection/disconnect — revokes at Square, then shows the connection as disconnected.
    @Sendable func disconnect(request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConnectController.decodeForm(DisconnectForm.self, from: request)
        _ = try await service.disconnect(sessionToken: request.cookies[cookies.session]?.value, csrfToken: form.csrf_token)
        return Response(status: .seeOther, headers: [.location: "/connection"])
    }
}
