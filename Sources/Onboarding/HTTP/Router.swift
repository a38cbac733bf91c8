import Hummingbird

/// The whole access policy in one place: global middleware, then one route group per realm with its own context.
///
/// A handler never checks a session or a CSRF token itself: the group it is added to has already done so.
/// The partner API (`/api/v1`, `PartnerRequestContext`) is one more group. `adminPages` lets tests add
/// admin pages of their own behind the same realm.
func buildRouter(
    services: AppServices,
    pages: PageRenderer,
    publicDirectory: String,
    partnerDocument: PartnerAPIDocument,
    drain: DrainState = DrainState(),
    adminPages: (AdminRealm) -> Void = { _ in }
) throws -> Router<AppRequestContext> {
    let configuration = services.configuration
    let edge = configuration.edge
    let service = services.onboarding
    let cookies = BrowserCookies(secure: configuration.secureCookies, keyRing: configuration.keyRing)
    let origin = configuration.publicOrigin
    let squareOrigin = configuration.squareEnvironment.baseURL.absoluteString.trimmingSuffix("/")

    // Every GET route answers HEAD too (monitors and link checkers use it): the GET's status and headers, no body.
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    // Every request: no control character in the path, a log line (with its request id), security headers, error pages
    // that keep the status, static files under /assets/ only.
    let securityHeaders = SecurityHeadersMiddleware(
        squareOrigin: squareOrigin,
        frameAncestors: configuration.frameAncestors,
        publicURLIsHTTPS: configuration.publicBaseURL.scheme == "https"
    )
    router.add(middleware: RequestIdMiddleware())
    router.add(middleware: RequestPathGuardMiddleware(pages: pages, securityHeaders: securityHeaders))
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: securityHeaders)
    router.add(middleware: ErrorPageMiddleware(pages: pages))
    router.add(middleware: PublicFiles.middleware(directory: publicDirectory, logger: services.logger, context: AppRequestContext.self))

    // Merchant pages before a connection exists: per-client limits on starting (each start writes a row) and on
    // Square's callback (each may call Square); the connect form's token is a double-submit cookie.
    let connect = ConnectController(service: service, pages: pages, cookies: cookies)
    router.group()
        .add(
            middleware: RateLimitMiddleware<AppRequestContext>(clientAddress: ClientAddress(trustedHeader: edge.clientAddressHeader))
                .limiting(.post, "/oauth/start", perMinute: edge.startPerMinute)
                .limiting(.get, "/oauth/callback", perMinute: edge.callbackPerMinute)
        )
        .add(middleware: CSRFMiddleware(allowedOrigin: origin, expectedToken: connect.expectedCSRFToken))
        .addRoutes(connect.endpoints)

    // Merchant pages of a connected browser: the session cookie → MerchantRequestContext; forms carry the session's token.
    router.group(context: MerchantSessionContext.self)
        .add(middleware: MerchantSessionAuthenticator(service: service, cookies: cookies))
        .group(context: MerchantRequestContext.self)
        .add(
            middleware: CSRFMiddleware<MerchantRequestContext>(allowedOrigin: origin) { _, context in
                context.merchant.session.csrfToken
            }
        )
        .addRoutes(ConnectionController(service: service, pages: pages).endpoints)

    // Admin dashboard: the admin session cookie → AdminRequestContext (else sign in and back); forms carry the
    // session's token; each page states the least role it needs.
    let admin = AdminRealm(router: router, services: services, pages: pages, cookies: cookies, origin: origin)
    let environment = configuration.environmentIdentity
    admin.add(.viewer, AdminHomeController(pages: pages, store: services.store, environment: environment, clock: services.clock).endpoints)
    admin.add(.viewer, AdminConnectionsController(pages: pages, store: services.store, environment: environment, clock: services.clock).endpoints)
    admin.add(.viewer, AdminAuditController(pages: pages, store: services.store, clock: services.clock).endpoints)
    let partnerPages = AdminPartnersController(pages: pages, store: services.store, clock: services.clock)
    admin.add(.viewer, partnerPages.viewerEndpoints)
    admin.add(.operator, partnerPages.operatorEndpoints)
    admin.add(.owner, AdminPartnerOwnerController(pages: pages, partners: services.partners).endpoints)
    let connectionDetail = AdminConnectionController(
        store: services.store,
        onboarding: service,
        checker: services.checker,
        refresher: services.refresher,
        vault: services.vault,
        environment: environment,
        pages: pages,
        logger: services.logger
    )
    admin.add(.viewer, connectionDetail.viewerEndpoints)
    admin.add(.operator, connectionDetail.operatorEndpoints)
    let account = AdminAccountController(
        sessions: services.adminSessions,
        accounts: services.admins,
        pages: pages,
        clientAddress: ClientAddress(trustedHeader: edge.clientAddressHeader)
    )
    admin.add(.viewer, account.endpoints)
    admin.add(
        .owner,
        AdminAdminsController(accounts: services.admins, secondFactor: services.adminSessions.secondFactor, pages: pages, clock: services.clock)
            .endpoints
    )
    adminPages(admin)

    // Partner API: the OpenAPI document is public; every operation needs a partner's API key and answers JSON.
    try PartnerAPIRealm.add(
        to: router,
        document: partnerDocument,
        api: services.partnerAPI,
        store: services.store,
        clock: services.clock,
        perKeyPerMinute: services.configuration.edge.partnerAPIPerMinute
    )

    // Square's webhooks: the HMAC signature over URL and raw body is the caller's identity.
    router.group()
        .add(
            middleware: SquareSignatureMiddleware(
                signatureKey: configuration.webhookSignatureKey,
                notificationURL: configuration.webhookNotificationURL
            )
        )
        .addRoutes(SquareWebhookController(store: services.store, environment: service.environmentName, clock: services.clock).endpoints)

    // Health (liveness) and readiness: open to load balancers.
    router.addRoutes(HealthController(store: services.store, pages: pages, keyRing: configuration.keyRing, drain: drain).endpoints)
    // Metrics: off unless metrics.bearerToken is set, then only with that token.
    router.group()
        .add(middleware: MetricsBearerMiddleware(bearerToken: configuration.metricsBearerToken))
        .addRoutes(MetricsController(store: services.store, environment: service.environmentName, clock: services.clock).endpoints)
    return router
}
