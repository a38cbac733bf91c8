import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore

/// The admin realm's context while the session is looked up: the browser's admin session, if it has one.
struct AdminSessionContext: AuthRequestContext {
    typealias Source = AppRequestContext
    var coreContext: CoreRequestContextStorage
    var identity: AdminSession?
    let remoteAddress: SocketAddress?

    init(source: AppRequestContext) {
        coreContext = source.coreContext
        remoteAddress = source.remoteAddress
        identity = nil
    }

    /// Forms are this realm's bodies: `request.decode` reads them (bounded as the CSRF check bounds them); one that
    /// cannot be decoded is a 400.
    var requestDecoder: FormRequestDecoder { FormRequestDecoder() }
    var maxUploadSize: Int { CSRFMiddleware<Self>.maxFormBytes }
}

/// The context of admin pages: the signed-in admin and their session, never missing.
struct AdminRequestContext: ChildRequestContext, AuthRequestContext {
    var coreContext: CoreRequestContextStorage
    private(set) var admin: AdminSession
    let remoteAddress: SocketAddress?

    /// The same admin for hummingbird-auth's authorization-policy middleware; never nil in this context.
    var identity: AdminSession? {
        get { admin }
        set { if let newValue { admin = newValue } }
    }

    /// Fails with a redirect to the sign-in page when the session middleware found none.
    init(context: AdminSessionContext) throws {
        guard let admin = context.identity else { throw AdminError.signInRequired }
        coreContext = context.coreContext
        remoteAddress = context.remoteAddress
        self.admin = admin
    }

    /// Forms are this realm's bodies: `request.decode` reads them (bounded as the CSRF check bounds them); one that
    /// cannot be decoded is a 400.
    var requestDecoder: FormRequestDecoder { FormRequestDecoder() }
    var maxUploadSize: Int { CSRFMiddleware<Self>.maxFormBytes }
}

/// hummingbird-auth's `RolePolicy` checks an admin's role through the roles it grants.
extension AdminSession: RoleProviding {
    var roles: Set<AdminRole> { admin.role.granted }
}

/// Resolves the admin session cookie once per request, before any handler runs.
struct AdminSessionAuthenticator: AuthenticatorMiddleware {
    typealias Context = AdminSessionContext
    let sessions: AdminSessions
    let cookies: BrowserCookies

    func authenticate(request: Request, context: Context) async throws -> AdminSession? {
        guard let token = cookies.value(cookies.adminSession, in: request) else { return nil }
        return try await sessions.session(token: token)
    }
}

/// Holds an admin with a one-time password to choosing their own: any other admin page sends them there, nothing done.
struct PasswordChangeRequiredMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    static let choosePath = "/admin/account/password"
    /// The pages open before the password is chosen: the choice itself and signing out.
    static let openPaths: Set<String> = [choosePath, "/admin/logout"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.admin.admin.passwordChangeRequired, !Self.openPaths.contains(request.uri.path) else {
            return try await next(request, context)
        }
        return Response(status: .seeOther, headers: [.location: Self.choosePath])
    }
}
