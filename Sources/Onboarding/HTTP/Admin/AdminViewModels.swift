import Foundation
import HTTPTypes
import Hummingbird

/// The sign-in page: name and password, where to go after, and what went wrong last time.
struct AdminSignInPageModel: Sendable {
    var platformName: String
    var csrfToken: String
    var next: String
    /// The name as typed, shown again after a failure; never the password.
    var name: String = ""
    var error: String? = nil
    var signedOut: Bool = false

    /// Whether a name was typed before: then the password field takes the focus (Mustache counts "" as present).
    var nameTyped: Bool = false
}

/// The admin home page: who is signed in, with which role, until when.
struct AdminHomePageModel: Sendable {
    var platformName: String
    var adminName: String
    var role: String
    var canOperate: Bool
    var canManageAdmins: Bool
    var sessionEndsAt: String
    var csrfToken: String

    init(session: AdminSession, platformName: String) {
        self.platformName = platformName
        adminName = session.admin.name
        role = session.admin.role.rawValue
        canOperate = session.admin.role >= .operator
        canManageAdmins = session.admin.role >= .owner
        sessionEndsAt = ConnectionPageModel.format(session.session.expiresAt)
        csrfToken = session.session.csrfToken
    }
}

/// An admin error page, with a way back into the dashboard.
struct AdminErrorPageModel: Sendable {
    var platformName: String
    var status: Int
    var title: String
    var message: String
}

extension PageRenderer {
    /// The admin realm's page for `error`, keeping its status; a throttled sign-in says when to try again.
    func adminError(_ error: AdminError) -> Response {
        var response = page(
            "admin/error",
            AdminErrorPageModel(platformName: platformName, status: Int(error.status.code), title: error.title, message: error.message),
            status: error.status
        )
        if case .signInThrottled(let seconds) = error { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}
