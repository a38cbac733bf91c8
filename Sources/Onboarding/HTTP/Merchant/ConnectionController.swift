import Hummingbird

/// The merchant's view of their connection, and the Disconnect button; the router supplies the session.
struct ConnectionController {
    let service: OnboardingService
    let pages: PageRenderer

    var endpoints: RouteCollection<MerchantRequestContext> {
        let routes = RouteCollection(context: MerchantRequestContext.self)
        routes.get("/connection", use: show)
        routes.post("/connection/disconnect", use: disconnect)
        return routes
    }

    /// GET /connection — merchant id, permissions, expiry and status, for the browser that connected.
    @Sendable func show(request: Request, context: MerchantRequestContext) async throws -> Response {
        let connection = context.merchant.connection
        return pages.page(
            "connection",
            ConnectionPageModel(
                connection: connection,
                csrfToken: context.merchant.session.csrfToken,
                platformName: service.configuration.platformName,
                tokenLife: service.configuration.tokenLife,
                justConnected: request.uri.queryParameters.get("connected") == "1" && connection.status == .active
            )
        )
    }

    /// POST /connection/disconnect — revokes at Square, then shows the connection as disconnected (CSRF checked before).
    @Sendable func disconnect(request: Request, context: MerchantRequestContext) async throws -> Response {
        _ = try await service.disconnect(context.merchant.connection, actor: .merchant)
        return Response(status: .seeOther, headers: [.location: "/connection"])
    }
}
