import Hummingbird
import HummingbirdAuth
import NIOCore

/// The partner API's context while the API key is looked up: the calling partner, if the key is good.
struct PartnerKeyContext: AuthRequestContext {
    typealias Source = AppRequestContext
    var coreContext: CoreRequestContextStorage
    var identity: PartnerKeyMatch?
    let remoteAddress: SocketAddress?

    init(source: AppRequestContext) {
        coreContext = source.coreContext
        remoteAddress = source.remoteAddress
        identity = nil
    }
}

/// The context of partner API operations: the calling partner, never missing.
struct PartnerRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let caller: PartnerKeyMatch

    /// Fails with 401 when the key middleware found no partner.
    init(context: PartnerKeyContext) throws {
        guard let caller = context.identity else { throw PartnerError.unauthorized }
        coreContext = context.coreContext
        self.caller = caller
    }
}

/// Resolves `Authorization: Bearer sok_…` once per request, before any operation runs.
struct PartnerKeyAuthenticator: AuthenticatorMiddleware {
    typealias Context = PartnerKeyContext
    let api: PartnerAPIService

    func authenticate(request: Request, context: Context) async throws -> PartnerKeyMatch? {
        guard let header = request.headers[.authorization], header.count <= 200 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return try await api.authenticate(bearer: String(parts[1]).trimmingCharacters(in: .whitespaces))
    }
}

/// The calling partner for the generated operation handlers, which see no request context.
enum PartnerCaller {
    @TaskLocal static var current: PartnerRecord?

    /// The caller, or 401 when an operation somehow runs outside the partner realm.
    static func required() throws(PartnerError) -> PartnerRecord {
        guard let current else { throw .unauthorized }
        return current
    }
}

/// Binds the context's partner to `PartnerCaller.current` for the operation handler.
struct PartnerCallerMiddleware: RouterMiddleware {
    typealias Context = PartnerRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await PartnerCaller.$current.withValue(context.caller.partner) { try await next(request, context) }
    }
}
