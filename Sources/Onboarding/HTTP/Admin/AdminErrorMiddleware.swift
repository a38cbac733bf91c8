import Foundation
import HTTPTypes
import Hummingbird

/// Turns the admin realm's errors into its pages: no session → sign in (and back), a role too low → 403, and so on.
struct AdminErrorMiddleware: RouterMiddleware {
    typealias Context = AdminSessionContext
    let pages: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AdminError {
            guard error == .signInRequired else { return pages.adminError(error) }
            // Back to the page asked for after signing in; a form post has no page to come back to.
            let target = request.method == .get ? AdminRedirect.localAdminPath(request.uri.string) : AdminRedirect.home
            let location =
                target == AdminRedirect.home
                ? "/admin/login"
                : "/admin/login?next=" + (target.addingPercentEncoding(withAllowedCharacters: AdminRedirect.queryValueCharacters) ?? "")
            return Response(status: .seeOther, headers: [.location: location])
        }
    }
}

/// Where the sign-in page may send a browser: our own `/admin` pages only, never another site.
enum AdminRedirect {
    static let home = "/admin"
    static let queryValueCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")
    private static let pathCharacters = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/?=&%+".utf8))

    /// `raw` when it is a plain local path under `/admin` (not the sign-in page itself); `/admin` for anything else.
    ///
    /// Refused: other paths, `//` (another host), backslashes, dot segments (also percent-encoded), control characters
    /// and anything but unreserved characters, `/`, and a query.
    static func localAdminPath(_ raw: String?) -> String {
        guard let raw, raw.utf8.count <= 512,
            raw == home || raw.hasPrefix(home + "/") || raw.hasPrefix(home + "?"),
            !raw.hasPrefix("/admin/login"), !raw.hasPrefix("/admin/logout"),
            raw.utf8.allSatisfy({ pathCharacters.contains($0) }),
            !raw.contains("//"), !raw.contains(".."), !raw.lowercased().contains("%2e"), !raw.lowercased().contains("%2f"),
            !raw.lowercased().contains("%5c")
        else { return home }
        return raw
    }
}

extension AdminError: HTTPResponseError {
    var status: HTTPResponse.Status {
        switch self {
        case .signInRequired: .seeOther
        case .signInFailed, .secondFactorCodeWrong, .secondFactorRequired: .unauthorized
        case .signInThrottled: .tooManyRequests
        case .roleRequired: .forbidden
        case .storageUnavailable: .serviceUnavailable
        case .invalidName, .unknownRole, .weakPassword, .nameTaken, .unknownAdmin, .lastOwner, .secondFactorAlreadyOn, .secondFactorOff,
            .passwordNotConfirmed, .ownAccount:
            .badRequest
        }
    }

    var title: String {
        switch self {
        case .roleRequired: "Your role does not allow this"
        case .signInThrottled: "Too many failed sign-ins"
        case .signInFailed, .secondFactorCodeWrong, .secondFactorRequired: "Sign-in failed"
        case .signInRequired: "Please sign in"
        case .storageUnavailable: "Our database is not answering"
        case .invalidName, .unknownRole, .weakPassword, .nameTaken, .unknownAdmin, .lastOwner, .secondFactorAlreadyOn, .secondFactorOff,
            .passwordNotConfirmed, .ownAccount:
            "That could not be done"
        }
    }

    var message: String {
        switch self {
        case .roleRequired(let role):
            "This needs the \(role.rawValue) role. Nothing was changed. An owner can give you another role."
        case .signInThrottled(let seconds): "Wait \(AdminError.minutes(seconds)) before trying again."
        case .signInFailed: "That name and password do not match an admin account."
        case .secondFactorCodeWrong: "That code is not right, or was used already. Enter the current code or a recovery code."
        case .storageUnavailable: "This is a problem on our side. Please try again in a moment."
        default: "\(description.prefix(1).uppercased())\(description.dropFirst())."
        }
    }

    /// "1 minute", "14 minutes": a wait the way a person reads it.
    static func minutes(_ seconds: Int) -> String {
        let minutes = max(1, (seconds + 59) / 60)
        return minutes == 1 ? "1 minute" : "\(minutes) minutes"
    }

    /// Only reached outside the admin realm's error middleware: a bare status.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status)
    }
}
