import Foundation

/// The admins page: every admin, the add form, and right after adding, the one-time password.
struct AdminAdminsPageModel: Sendable {
    var platformName: String
    var csrfToken: String
    var admins: [AdminAccountRowModel]
    var notice: String? = nil
    var error: String? = nil
    /// The name typed before an error, shown again.
    var typedName: String = ""
    var added: AdminAddedModel? = nil
    var roles: [OptionModel] = AdminRole.allCases.map { OptionModel(value: $0.rawValue, label: $0.rawValue, selected: $0 == .viewer) }
}

/// The admin just added and their one-time password, shown on this page only.
struct AdminAddedModel: Sendable {
    var name: String
    var role: String
    var password: String
}

/// One admin in the list: role, second factor, last sign-in, and the owner's actions (none on their own row).
struct AdminAccountRowModel: Sendable {
    var name: String
    var role: String
    var roles: [OptionModel]
    var secondFactorOn: Bool
    var lastSignIn: MomentModel?
    var mustChangePassword: Bool
    var isYou: Bool
    var rolePath: String
    var resetPath: String
    var removePath: String

    init(_ admin: AdminUserRecord, signedInAs: String, now: Date) {
        name = admin.name
        role = admin.role.rawValue
        roles = AdminRole.allCases.map { OptionModel(value: $0.rawValue, label: $0.rawValue, selected: $0 == admin.role) }
        secondFactorOn = admin.totpEnabled
        lastSignIn = admin.lastSignInAt.map { MomentModel($0, now: now) }
        mustChangePassword = admin.passwordChangeRequired
        isYou = admin.name == signedInAs
        let base = "/admin/admins/" + admin.name
        rolePath = base + "/role"
        resetPath = base + "/second-factor/reset"
        removePath = base + "/remove"
    }
}

/// The question before removing an admin.
struct AdminRemovePageModel: Sendable {
    var platformName: String
    var name: String
    var csrfToken: String
}
