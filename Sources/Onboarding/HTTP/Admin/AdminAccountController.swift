import Foundation
import Hummingbird
import OnboardCrypto

/// The signed-in admin's own page: their second factor (set up, turn on, recovery codes once), and for owners the
/// reset of another admin's second factor.
struct AdminAccountController {
    let sessions: AdminSessions
    let pages: PageRenderer

    /// Every admin's own page and second factor.
    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/account", use: account)
        routes.post("/admin/account/totp", use: begin)
        routes.post("/admin/account/totp/enable", use: enable)
        return routes
    }

    /// An owner's reset of another admin's second factor.
    var ownerEndpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.post("/admin/account/totp/reset", use: reset)
        return routes
    }

    struct CodeForm: Decodable {
        var code: String?
    }

    struct ResetForm: Decodable {
        var name: String?
    }

    /// GET /admin/account — the second factor's state; a pending secret shown again with its form.
    @Sendable func account(request: Request, context: AdminRequestContext) async throws -> Response {
        let reset = request.uri.queryParameters.get("reset").flatMap { AdminAccounts.isValidName($0) ? $0 : nil }
        let pending = try sessions.secondFactor.pending(context.admin.admin)
        let model = AdminAccountPageModel(
            session: context.admin,
            enrolment: pending,
            platformName: pages.platformName,
            resetName: reset
        )
        return pages.page("admin/account", model)
    }

    /// POST /admin/account/totp — a new secret, pending until a code from it is entered.
    @Sendable func begin(request: Request, context: AdminRequestContext) async throws -> Response {
        _ = try await sessions.secondFactor.begin(context.admin.admin)
        return Response(status: .seeOther, headers: [.location: "/admin/account"])
    }

    /// POST /admin/account/totp/enable — the first code turns it on; the recovery codes are shown this once.
    @Sendable func enable(request: Request, context: AdminRequestContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: CSRFMiddleware<AdminRequestContext>.maxFormBytes)
        let form = (try? URLEncodedFormDecoder().decode(CodeForm.self, from: String(buffer: body))) ?? CodeForm()
        let admin = context.admin.admin
        let codes: [String]
        do {
            codes = try await sessions.secondFactor.enable(admin, code: String((form.code ?? "").prefix(64)))
        } catch {
            guard error == .secondFactorCodeWrong else { throw error }
            let pending = try sessions.secondFactor.pending(admin)
            var model = AdminAccountPageModel(session: context.admin, enrolment: pending, platformName: pages.platformName)
            model.error = "That code is not the current one. Check the time on your phone and try the next code."
            return pages.page("admin/account", model, status: .badRequest)
        }
        var model = AdminAccountPageModel(session: context.admin, enrolment: nil, platformName: pages.platformName)
        model.totpOn = true
        model.recoveryCodes = codes
        var response = pages.page("admin/account", model)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// POST /admin/account/totp/reset — an owner turns another admin's second factor off (audited with the owner's name).
    @Sendable func reset(request: Request, context: AdminRequestContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: CSRFMiddleware<AdminRequestContext>.maxFormBytes)
        let form = (try? URLEncodedFormDecoder().decode(ResetForm.self, from: String(buffer: body))) ?? ResetForm()
        let name = (form.name ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard AdminAccounts.isValidName(name) else { throw AdminError.unknownAdmin(String(name.prefix(64))) }
        try await sessions.secondFactor.reset(named: name, by: context.admin.admin.name)
        return Response(status: .seeOther, headers: [.location: "/admin/account?reset=" + name])
    }
}

/// The account page: the second factor's state, a pending setup, recovery codes right after turning it on.
struct AdminAccountPageModel: Sendable {
    var platformName: String
    var adminName: String
    var totpOn: Bool
    var enabledAt: String?
    var unusedRecoveryCodes: Int
    var pending: AdminSecondFactor.Enrolment?
    /// Shown once, right after turning the second factor on.
    var recoveryCodes: [String] = [] {
        didSet { hasRecoveryCodes = !recoveryCodes.isEmpty }
    }
    var hasRecoveryCodes = false
    var error: String? = nil
    var isOwner: Bool
    var resetName: String?
    var csrfToken: String

    init(session: AdminSession, enrolment: AdminSecondFactor.Enrolment?, platformName: String, resetName: String? = nil) {
        self.platformName = platformName
        adminName = session.admin.name
        totpOn = session.admin.totpEnabled
        enabledAt = session.admin.totpEnabledAt.map(ConnectionPageModel.format)
        unusedRecoveryCodes = session.admin.unusedRecoveryCodes
        pending = enrolment
        isOwner = session.admin.role >= .owner
        self.resetName = resetName
        csrfToken = session.session.csrfToken
    }
}

/// The sign-in's code step.
struct AdminSignInCodePageModel: Sendable {
    var platformName: String
    var csrfToken: String
    var next: String
    var challenge: String
    var error: String?
}
