import Hummingbird
import HummingbirdAuth

/// The merchant pages' context while the session is looked up: the browser's merchant session, if it has one.
struct MerchantSessionContext: AuthRequestContext {
    typealias Source = AppRequestContext
    var coreContext: CoreRequestContextStorage
    var identity: MerchantSession?

    init(source: AppRequestContext) {
        coreContext = source.coreContext
        identity = nil
    }
}

/// The context of pages that need a connected browser: the merchant session and its connection, never missing.
struct MerchantRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let merchant: MerchantSession

    /// Fails with the "no connection in this browser" page when the session middleware found none.
    init(context: MerchantSessionContext) throws {
        guard let merchant = context.identity else { throw OnboardingError.noMerchantSession }
        coreContext = context.coreContext
        self.merchant = merchant
    }
}

/// Resolves the merchant session cookie once per request, before any handler runs.
struct MerchantSessionAuthenticator: AuthenticatorMiddleware {
    typealias Context = MerchantSessionContext
    let service: OnboardingService
    let cookies: BrowserCookies

    func authenticate(request: Request, context: Context) async throws -> MerchantSession? {
        guard let token = cookies.value(cookies.session, in: request) else { return nil }
        do {
            return try await service.merchantSession(token: token)
        } catch .noMerchantSession {
            return nil
        }
    }
}
