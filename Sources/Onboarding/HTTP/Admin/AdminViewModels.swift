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
