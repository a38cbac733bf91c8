import Foundation
import Hummingbird
import HummingbirdAuth
import OpenAPIHummingbird

/// The partner API realm (`/api/v1`): the public OpenAPI document, then every operation behind an API key.
enum PartnerAPIRealm {
    static let prefix = "/api/v1"

    /// Adds the realm's routes to the router; the document is read once, at start.
    static func add(to router: Router<AppRequestContext>, api: PartnerAPIService, store: any OnboardingStore, clock: AppClock) {
        // `buildApplication` loads the document before the router is built, so a packaging mistake stops the start.
        let document = (try? PartnerAPIDocument.load()) ?? Data()
        router.get("\(prefix)/openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: .init(bytes: document))
            )
        }
        let group = router.group(RouterPath(prefix), context: PartnerKeyContext.self)
            .add(middleware: PartnerAPIErrorMiddleware<PartnerKeyContext>())
            .add(middleware: PartnerRequestLimits<PartnerKeyContext>())
            .add(middleware: PartnerKeyAuthenticator(api: api))
            .group(context: PartnerRequestContext.self)
            .add(middleware: PartnerCallerMiddleware())
            .add(middleware: IdempotencyMiddleware(store: store, clock: clock, unkeptPathSuffixes: ["/access-token"]))
        // Registering only fails for a server URL that is not a URL; "/" always is one.
        try! PartnerAPIHandler(api: api).registerHandlers(on: group, serverURL: URL(string: "/")!)
    }
}
