import Foundation
import Hummingbird

/// The owners' page of admin accounts: who they are, add one with a one-time password, change a role, reset a second
/// factor, remove; each change one audited store operation, under the owner's name.
struct AdminAdminsController {
    let accounts: AdminAccounts
    let secondFactor: AdminSecondFactor
    let pages: PageRenderer
    let clock: AppClock

    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/admins", use: list)
        routes.post("/admin/admins", use: add)
        routes.post("/admin/admins/{name}/role", use: changeRole)
        routes.post("/admin/admins/{name}/second-factor/reset", use: resetSecondFactor)
        routes.get("/admin/admins/{name}/remove", use: confirmRemoval)
        routes.post("/admin/admins/{name}/remove", use: remove)
        return routes
    }

    struct AddForm: Decodable {
        var name: String?
        var role: String?
    }

    struct RoleForm: Decodable {
        var role: String?
    }

    /// GET /admin/admins — every admin, a notice chosen by code, and the form to add one.
    @Sendable func list(request: Request, context: AdminRequestContext) async throws -> Response {
        var model = try await pageModel(context)
        model.notice = AdminAdminsNotice.text(request.uri.queryParameters)
        return pages.adminPage("admin/admins", model, session: context.admin, section: .admins)
    }

    /// POST /admin/admins — adds an admin; their one-time password is on this answer only (never stored in clear).
    @Sendable func add(request: Request, context: AdminRequestContext) async throws -> Response {
        let form = try await request.decode(as: AddForm.self, context: context)
        let name = (form.name ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let added: (AdminUserRecord, String)
        do throws(AdminError) {
            guard let role = AdminRole(rawValue: form.role ?? "") else { throw AdminError.unknownRole(String((form.role ?? "").prefix(20))) }
            added = try await accounts.addWithOneTimePassword(name: name, role: role, actor: .admin(context.admin.admin.name))
        } catch {
            switch error {
            case .invalidName, .nameTaken, .unknownRole:
                var model = try await pageModel(context)
                model.error = error.message
                model.typedName = String(name.prefix(64))
                return pages.adminPage("admin/admins", model, session: context.admin, section: .admins, status: .badRequest)
            default: throw error
            }
        }
        var model = try await pageModel(context)
        model.added = AdminAddedModel(name: added.0.name, role: added.0.role.rawValue, password: added.1)
        var response = pages.adminPage("admin/admins", model, session: context.admin, section: .admins)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// POST /admin/admins/{name}/role — another role for another admin (the last owner stays one).
    @Sendable func changeRole(request: Request, context: AdminRequestContext) async throws -> Response {
        let name = try Self.other(context)
        let form = try await request.decode(as: RoleForm.self, context: context)
        guard let role = AdminRole(rawValue: form.role ?? "") else { throw AdminError.unknownRole(String((form.role ?? "").prefix(20))) }
        try await accounts.setRole(name: name, role: role, actor: .admin(context.admin.admin.name))
        return Self.back(.roleChanged, name: name)
    }

    /// POST /admin/admins/{name}/second-factor/reset — turns another admin's second factor off (a lost phone).
    @Sendable func resetSecondFactor(request: Request, context: AdminRequestContext) async throws -> Response {
        let name = try Self.other(context)
        try await secondFactor.reset(named: name, by: context.admin.admin.name)
        return Self.back(.secondFactorReset, name: name)
    }

    /// GET /admin/admins/{name}/remove — asks before removing.
    @Sendable func confirmRemoval(request: Request, context: AdminRequestContext) async throws -> Response {
        let name = try Self.other(context)
        let store = accounts.store
        guard try await AdminError.reading({ () async throws(StorageError) in try await store.admin(named: name) }) != nil else {
            throw AdminError.unknownAdmin(name)
        }
        let model = AdminRemovePageModel(platformName: pages.platformName, name: name, csrfToken: context.admin.session.csrfToken)
        return pages.adminPage("admin/admin-remove", model, session: context.admin, section: .admins)
    }

    /// POST /admin/admins/{name}/remove — removes the admin and ends their sessions (never the last owner).
    @Sendable func remove(request: Request, context: AdminRequestContext) async throws -> Response {
        let name = try Self.other(context)
        try await accounts.remove(name: name, actor: .admin(context.admin.admin.name))
        return Self.back(.removed, name: name)
    }

    private func pageModel(_ context: AdminRequestContext) async throws -> AdminAdminsPageModel {
        let admins = try await accounts.list()
        let now = clock.now()
        return AdminAdminsPageModel(
            platformName: pages.platformName,
            csrfToken: context.admin.session.csrfToken,
            admins: admins.map { AdminAccountRowModel($0, signedInAs: context.admin.admin.name, now: now) }
        )
    }

    /// The admin named in the path, who must not be the signed-in owner (their own role and removal are another's).
    private static func other(_ context: AdminRequestContext) throws -> String {
        let name = try context.parameters.require("name")
        guard AdminAccounts.isValidName(name) else { throw AdminError.unknownAdmin(String(name.prefix(64))) }
        guard name != context.admin.admin.name else { throw AdminError.ownAccount }
        return name
    }

    private static func back(_ notice: AdminAdminsNotice, name: String) -> Response {
        Response(status: .seeOther, headers: [.location: AdminPaths.path("/admin/admins", [("done", notice.rawValue), ("name", name)])])
    }
}

/// The notices of the admins page: a fixed code and a name that must be an admin name, never text from the address.
enum AdminAdminsNotice: String {
    case roleChanged = "role_changed"
    case secondFactorReset = "second_factor_reset"
    case removed

    static func text(_ query: Hummingbird.Parameters) -> String? {
        guard let code = query.get("done").flatMap(Self.init(rawValue:)),
            let name = query.get("name").flatMap({ AdminAccounts.isValidName($0) ? $0 : nil })
        else { return nil }
        return switch code {
        case .roleChanged: "Changed the role of \(name)."
        case .secondFactorReset: "The second factor of \(name) is off; they sign in with their password alone until they set it up again."
        case .removed: "Removed \(name); their sessions have ended."
        }
    }
}
