import Hummingbird

/// The dashboard's first page: who is signed in, and the sign-out button.
struct AdminHomeController {
    let pages: PageRenderer

    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin", use: home)
        return routes
    }

    /// GET /admin — the signed-in admin, their role and when the session ends.
    @Sendable func home(request: Request, context: AdminRequestContext) async throws -> Response {
        pages.page("admin/home", AdminHomePageModel(session: context.admin, platformName: pages.platformName))
    }
}
