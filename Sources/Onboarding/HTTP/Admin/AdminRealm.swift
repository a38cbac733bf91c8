import Hummingbird
import HummingbirdAuth

/// The admin dashboard's route groups, in the order that is its access policy.
///
/// Every admin route passes the admin error pages and the session lookup. The sign-in page needs no session (its form
/// carries a double-submit token); every other page needs one (`AdminRequestContext`, else a redirect to sign in),
/// the session's CSRF token on form posts, a chosen password (one-time passwords open only the page to choose one), and
/// then its role: `add(.operator, controller.endpoints)`.
struct AdminRealm {
    private let signedIn: RouterGroup<AdminRequestContext>

    init(router: Router<AppRequestContext>, services: AppServices, pages: PageRenderer, cookies: BrowserCookies, origin: String) {
        let realm = router.group(context: AdminSessionContext.self)
            .add(middleware: AdminErrorMiddleware(pages: pages))
            .add(middleware: AdminSessionAuthenticator(sessions: services.adminSessions, cookies: cookies))
        let signIn = AdminSignInController(
            sessions: services.adminSessions,
            pages: pages,
            cookies: cookies,
            settings: services.configuration.admin,
            clientAddress: ClientAddress(trustedHeader: services.configuration.edge.clientAddressHeader)
        )
        realm.group()
            .add(middleware: CSRFMiddleware<AdminSessionContext>(allowedOrigin: origin, expectedToken: signIn.expectedCSRFToken))
            .addRoutes(signIn.signInEndpoints)
        signedIn = realm.group(context: AdminRequestContext.self)
            .add(
                middleware: CSRFMiddleware<AdminRequestContext>(allowedOrigin: origin) { _, context in
                    context.admin.session.csrfToken
                }
            )
            .add(middleware: PasswordChangeRequiredMiddleware())
        add(.viewer, signIn.signedInEndpoints)
    }

    /// Adds admin pages open to `role` and the roles above it; anyone else gets the 403 page and nothing is done.
    func add(_ role: AdminRole, _ routes: RouteCollection<AdminRequestContext>) {
        signedIn.group()
            .add(
                middleware: AuthorizationPolicyMiddleware(
                    RolePolicy<AdminSession>(role),
                    deniedError: AdminError.roleRequired(role),
                    context: AdminRequestContext.self
                )
            )
            .addRoutes(routes)
    }
}
