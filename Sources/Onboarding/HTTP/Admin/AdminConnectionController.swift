import Foundation
import Hummingbird
import Logging
import OnboardCrypto

/// One connection in the dashboard: every non-secret field, the access token's fingerprint, its audit history, and
/// the operator's actions (check, refresh, disconnect), each answered by a redirect back with an outcome code.
struct AdminConnectionController {
    let store: any ConnectionStore & AuditLog
    let onboarding: OnboardingService
    let checker: TokenStatusChecker
    let refresher: TokenRefresher
    let vault: TokenVault
    /// This service's environment: the connections it shows.
    let environment: String
    let pages: PageRenderer
    let logger: Logger

    /// The page itself, for viewers and above.
    var viewerEndpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/connections/{merchant_id}", use: detail)
        return routes
    }

    /// The actions and the disconnect confirmation, for operators and above.
    var operatorEndpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.post("/admin/connections/{merchant_id}/check", use: check)
        routes.post("/admin/connections/{merchant_id}/refresh", use: refresh)
        routes.get("/admin/connections/{merchant_id}/disconnect", use: confirmDisconnect)
        routes.post("/admin/connections/{merchant_id}/disconnect", use: disconnect)
        return routes
    }

    /// GET /admin/connections/{merchant_id} — the connection, its fingerprint and history, and the outcome of the last action.
    @Sendable func detail(request: Request, context: AdminRequestContext) async throws -> Response {
        guard let connection = try await find(context) else { return notFound(context) }
        let history = try await stored { try await store.auditEvents(merchantId: connection.merchantId) }
        let outcome = request.uri.queryParameters.get("outcome").flatMap(AdminActionOutcome.init(rawValue:))
        let model = AdminConnectionPageModel(
            connection: connection,
            fingerprint: fingerprint(of: connection),
            history: history.sorted { ($0.occurredAt, $0.id ?? 0) > ($1.occurredAt, $1.id ?? 0) },
            outcome: outcome,
            session: context.admin,
            platformName: pages.platformName
        )
        return pages.adminPage("admin/connection", model, session: context.admin, section: .connections)
    }

    /// POST …/check — asks Square about the access token (RetrieveTokenStatus), as this admin.
    @Sendable func check(request: Request, context: AdminRequestContext) async throws -> Response {
        guard let connection = try await find(context) else { return notFound(context) }
        let outcome = await checker.check(connectionId: connection.id, actor: .admin(context.admin.admin.name))
        let code: AdminActionOutcome =
            switch outcome {
            case .valid: .checkValid
            case .expired: .checkExpired
            case .revoked: .checkRevoked
            case .needsReauth: .checkNeedsReauth
            case .unknown: .squareNotAnswering
            case .notCheckable: .checkNotCheckable
            case .notFound: .gone
            }
        return back(to: connection, code)
    }

    /// POST …/refresh — renews the tokens now, due or not, as this admin.
    @Sendable func refresh(request: Request, context: AdminRequestContext) async throws -> Response {
        guard let connection = try await find(context) else { return notFound(context) }
        let outcome = await refresher.refresh(connectionId: connection.id, actor: .admin(context.admin.admin.name), force: true)
        let code: AdminActionOutcome =
            switch outcome {
            case .refreshed: .refreshed
            case .notDue, .busy: .refreshBusy
            case .needsReauth: .refreshNeedsReauth
            case .retryLater: .squareNotAnswering
            case .notRefreshable: .refreshNotRefreshable
            case .revokedMeanwhile: .refreshRevokedMeanwhile
            case .notFound: .gone
            }
        return back(to: connection, code)
    }

    /// GET …/disconnect — asks the operator to confirm; the post does it.
    @Sendable func confirmDisconnect(request: Request, context: AdminRequestContext) async throws -> Response {
        guard let connection = try await find(context) else { return notFound(context) }
        let model = AdminConnectionPageModel(
            connection: connection,
            fingerprint: nil,
            history: [],
            outcome: nil,
            session: context.admin,
            platformName: pages.platformName
        )
        return pages.adminPage("admin/disconnect", model, session: context.admin, section: .connections)
    }

    /// POST …/disconnect — revokes at Square and ends the connection, once however often it is pressed.
    @Sendable func disconnect(request: Request, context: AdminRequestContext) async throws -> Response {
        guard let connection = try await find(context) else { return notFound(context) }
        guard connection.status != .revoked else { return back(to: connection, .alreadyDisconnected) }
        let code: AdminActionOutcome
        do {
            // A second press while the first runs joins it (one RevokeToken call) and reports the connection as it ends.
            let ended = try await onboarding.disconnectJoining(connection, actor: .admin(context.admin.admin.name))
            code = ended.connection.status != .revoked ? .squareNotAnswering : ended.joined ? .alreadyDisconnected : .disconnected
        } catch {
            switch error {
            case .disconnectNeedsClientSecret: code = .disconnectNeedsClientSecret
            case .notFound: code = .gone
            case .storageUnavailable: throw AdminError.storageUnavailable
            default: code = .squareNotAnswering
            }
        }
        return back(to: connection, code)
    }

    /// The connection named in the path, in this service's environment; nil when there is none.
    private func find(_ context: AdminRequestContext) async throws -> ConnectionRecord? {
        let merchantId = try context.parameters.require("merchant_id")
        return try await stored { try await store.connection(environment: environment, merchantId: merchantId) }
    }

    /// The admin realm's 404 page: nothing was done.
    private func notFound(_ context: AdminRequestContext) -> Response {
        pages.adminErrorPage(
            status: .notFound,
            title: "No such connection",
            message: "No merchant with that id is connected in this environment. Nothing was changed."
        )
    }

    /// The first 12 hex digits of the SHA-256 of the access token, opened only to hash it; nil without one.
    private func fingerprint(of connection: ConnectionRecord) -> String? {
        guard let sealed = connection.sealedAccessToken else { return nil }
        guard let token = try? vault.openAccessToken(sealed, environment: connection.environment, merchantId: connection.merchantId)
        else { return "cannot be opened (is its key in onboard.encryptionKeys?)" }
        return String(sha256Hex(token.value).prefix(12))
    }

    private func back(to connection: ConnectionRecord, _ outcome: AdminActionOutcome) -> Response {
        Response(status: .seeOther, headers: [.location: AdminConnectionPageModel.path(connection.merchantId) + "?outcome=" + outcome.rawValue])
    }

    private func stored<T>(_ operation: () async throws -> T) async throws(AdminError) -> T {
        try await storingAdmin("showing a connection to an admin", logger: logger, operation)
    }
}
