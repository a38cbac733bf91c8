import Foundation
import Hummingbird
import OnboardCrypto

/// The signed-in admin's own page: their password, and their second factor (set up, turn on, turn off, new recovery
/// codes); every change but setting up asks for their password again.
struct AdminAccountController {
    let sessions: AdminSessions
    let accounts: AdminAccounts
    let pages: PageRenderer
    let clientAddress: ClientAddress

    /// Every admin's own page, password and second factor.
    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/account", use: account)
        routes.post("/admin/account/totp", use: begin)
        routes.post("/admin/account/totp/enable", use: enable)
        routes.post("/admin/account/totp/off", use: turnOff)
        routes.post("/admin/account/recovery-codes", use: renewRecoveryCodes)
        routes.get(RouterPath(PasswordChangeRequiredMiddleware.choosePath), use: passwordForm)
        routes.post(RouterPath(PasswordChangeRequiredMiddleware.choosePath), use: changePassword)
        return routes
    }

    struct Form: Decodable {
        var code: String?
        var password: String?
        var current_password: String?
        var new_password: String?
    }

    /// GET /admin/account — the second factor's state; a pending secret shown again with its form.
    @Sendable func account(request: Request, context: AdminRequestContext) async throws -> Response {
        var model = try model(context)
        model.notice = request.uri.queryParameters.get("done").flatMap(AdminAccountNotice.init(rawValue:))?.text
        return pages.adminPage("admin/account", model, session: context.admin, section: .account)
    }

    /// POST /admin/account/totp — a new secret, pending until a code from it is entered.
    @Sendable func begin(request: Request, context: AdminRequestContext) async throws -> Response {
        _ = try await sessions.secondFactor.begin(context.admin.admin)
        return Response(status: .seeOther, headers: [.location: "/admin/account"])
    }

    /// POST /admin/account/totp/enable — the first code turns it on; the recovery codes are shown this once.
    @Sendable func enable(request: Request, context: AdminRequestContext) async throws -> Response {
        let form = try await request.decode(as: Form.self, context: context)
        let codes: [String]
        do {
            codes = try await sessions.secondFactor.enable(context.admin.admin, code: String((form.code ?? "").prefix(64)))
        } catch {
            guard error == .secondFactorCodeWrong else { throw error }
            var model = try model(context)
            model.error = "That code is not the current one. Check the time on your phone and try the next code."
            return pages.adminPage("admin/account", model, session: context.admin, section: .account, status: .badRequest)
        }
        var model = try model(context, pending: false)
        model.totpOn = true
        model.recoveryCodes = codes
        return noStore(pages.adminPage("admin/account", model, session: context.admin, section: .account))
    }

    /// POST /admin/account/totp/off — the admin's password again, then the second factor is off (audited).
    @Sendable func turnOff(request: Request, context: AdminRequestContext) async throws -> Response {
        if let refused = try await confirm(request, context) { return refused }
        try await sessions.secondFactor.turnOff(context.admin.admin)
        return Response(
            status: .seeOther,
            headers: [.location: AdminPaths.path("/admin/account", [("done", AdminAccountNotice.secondFactorOff.rawValue)])]
        )
    }

    /// POST /admin/account/recovery-codes — the admin's password again, then ten new codes shown this once.
    @Sendable func renewRecoveryCodes(request: Request, context: AdminRequestContext) async throws -> Response {
        if let refused = try await confirm(request, context) { return refused }
        let codes = try await sessions.secondFactor.renewRecoveryCodes(context.admin.admin)
        var model = try model(context, pending: false)
        model.recoveryCodes = codes
        model.renewed = true
        return noStore(pages.adminPage("admin/account", model, session: context.admin, section: .account))
    }

    /// GET /admin/account/password — the form to choose a new password (the only page a one-time password opens).
    @Sendable func passwordForm(request: Request, context: AdminRequestContext) async throws -> Response {
        noStore(pages.adminPage("admin/password", passwordModel(context), session: context.admin, section: .account))
    }

    /// POST /admin/account/password — the current password, then the new one; other sessions end, this one stays.
    @Sendable func changePassword(request: Request, context: AdminRequestContext) async throws -> Response {
        let form = try await request.decode(as: Form.self, context: context)
        let session = context.admin
        do throws(AdminError) {
            try await sessions.confirmPassword(
                session,
                password: form.current_password ?? "",
                clientAddress: clientAddress.key(for: request, peer: context.remoteAddress)
            )
            try await accounts.changeOwnPassword(session, to: form.new_password ?? "")
        } catch {
            switch error {
            case .passwordNotConfirmed, .weakPassword:
                var model = passwordModel(context)
                model.error = error.message
                return noStore(pages.adminPage("admin/password", model, session: session, section: .account, status: .badRequest))
            default: throw error
            }
        }
        // A one-time password led here from the sign-in: the dashboard opens now.
        let next =
            session.admin.passwordChangeRequired
            ? "/admin" : AdminPaths.path("/admin/account", [("done", AdminAccountNotice.passwordChanged.rawValue)])
        return Response(status: .seeOther, headers: [.location: next])
    }

    /// Checks the password typed into a form of this page; a wrong one gives the page again with the reason (400).
    private func confirm(_ request: Request, _ context: AdminRequestContext) async throws -> Response? {
        let form = try await request.decode(as: Form.self, context: context)
        do throws(AdminError) {
            try await sessions.confirmPassword(
                context.admin,
                password: form.password ?? "",
                clientAddress: clientAddress.key(for: request, peer: context.remoteAddress)
            )
            return nil
        } catch {
            guard error == .passwordNotConfirmed else { throw error }
            var model = try model(context)
            model.error = error.message
            return pages.adminPage("admin/account", model, session: context.admin, section: .account, status: .badRequest)
        }
    }

    private func model(_ context: AdminRequestContext, pending: Bool = true) throws(AdminError) -> AdminAccountPageModel {
        AdminAccountPageModel(
            session: context.admin,
            enrolment: pending ? try sessions.secondFactor.pending(context.admin.admin) : nil,
            platformName: pages.platformName
        )
    }

    private func passwordModel(_ context: AdminRequestContext) -> AdminPasswordPageModel {
        AdminPasswordPageModel(
            platformName: pages.platformName,
            csrfToken: context.admin.session.csrfToken,
            oneTime: context.admin.admin.passwordChangeRequired,
            minimumLength: AdminAccounts.passwordLength.lowerBound
        )
    }

    private func noStore(_ response: Response) -> Response {
        var response = response
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// The notices of the account page, by code.
enum AdminAccountNotice: String {
    case passwordChanged = "password_changed"
    case secondFactorOff = "second_factor_off"

    var text: String {
        switch self {
        case .passwordChanged: "Your password is changed. Your other sessions have ended."
        case .secondFactorOff: "Your second factor is off: signing in asks for your password only. Your recovery codes no longer work."
        }
    }
}

/// The page to choose a new password; `oneTime` when an owner's one-time password led here.
struct AdminPasswordPageModel: Sendable {
    var platformName: String
    var csrfToken: String
    var oneTime: Bool
    var minimumLength: Int
    var error: String? = nil
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
    /// The codes shown are renewed ones, not the first.
    var renewed = false
    var error: String? = nil
    var notice: String? = nil
    var csrfToken: String

    init(session: AdminSession, enrolment: AdminSecondFactor.Enrolment?, platformName: String) {
        self.platformName = platformName
        adminName = session.admin.name
        totpOn = session.admin.totpEnabled
        enabledAt = session.admin.totpEnabledAt.map(ConnectionPageModel.format)
        unusedRecoveryCodes = session.admin.unusedRecoveryCodes
        pending = enrolment
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
