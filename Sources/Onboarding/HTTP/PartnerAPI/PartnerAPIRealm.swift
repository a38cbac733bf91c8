import Foundation
import Hummingbird
import HummingbirdAuth
import OpenAPIHummingbird

/// The partner API realm (`/api/v1`): the public OpenAPI document, then every operation behind an API key.
enum PartnerAPIRealm {
    static let prefix = "/api/v1"
    /// The route of the access-token operation, as the router names it: its answers carry a token and are never kept.
    static let accessTokenEndpoint = "\(prefix)/connections/{merchant_id}/access-token"

    /// Adds the realm's routes to the router, serving and enforcing `document` (read once, at start).
    static func add(
        to router: Router<AppRequestContext>,
        document: PartnerAPIDocument,
        api: PartnerAPIService,
        store: any IdempotencyStore,
        clock: AppClock,
        perKeyPerMinute: Int
    ) throws {
        let bytes = document.bytes
        router.get("\(prefix)/openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: .init(bytes: bytes))
            )
        }
        let group = router.group(RouterPath(prefix), context: PartnerKeyContext.self)
            .add(middleware: PartnerAPIErrorMiddleware<PartnerKeyContext>())
            .add(middleware: PartnerRequestLimits<PartnerKeyContext>())
            .add(middleware: PartnerKeyAuthenticator(api: api))
            .group(context: PartnerRequestContext.self)
            .add(middleware: PartnerCallerMiddleware())
        if perKeyPerMinute > 0 { group.add(middleware: PartnerRateLimitMiddleware(limiter: RateLimiter(perMinute: perKeyPerMinute))) }
        group.add(middleware: PartnerContractMiddleware(contract: document.contract))
        group.add(middleware: IdempotencyMiddleware(store: store, clock: clock, unkeptEndpoints: [accessTokenEndpoint]))
        try PartnerAPIHandler(api: api).registerHandlers(on: group, serverURL: URL(string: "/")!)
    }
}
