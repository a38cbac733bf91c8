import Foundation
import Hummingbird
import Mustache
import SquareOAuth

/// The Mustache templates, loaded once at start; a missing one stops the start.
struct PageRenderer: Sendable {
    static let required = [
        "layout", "connect", "connection", "error", "admin/login", "admin/home", "admin/error",
        "admin/connections", "admin/audit", "admin/connection", "admin/disconnect", "admin/account", "admin/login-code",
        "popup-result", "admin/partners", "admin/partner-secrets", "admin-page", "admin/admins", "admin/admin-remove",
        "admin/password",
    ]
    let library: MustacheLibrary
    let platformName: String

    /// Loads every template in `directory` and checks that each required one is there.
    static func load(directory: String, platformName: String) async throws -> PageRenderer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StartupError.missingTemplates(directory: directory, missing: required)
        }
        let library = try await MustacheLibrary(directory: directory)
        let missing = required.filter { library.getTemplate(named: $0) == nil }
        guard missing.isEmpty else { throw StartupError.missingTemplates(directory: directory, missing: missing) }
        return PageRenderer(library: library, platformName: platformName)
    }

    /// Whether every required template is in the library (readiness).
    var hasEveryTemplate: Bool { Self.required.allSatisfy { library.getTemplate(named: $0) != nil } }

    /// Renders `template` with `model` as an HTML response.
    func page(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: render(template, model)))
        )
    }

    /// The HTML of `template` with `model`, or a bare "unavailable" page when the template cannot render.
    func render(_ template: String, _ model: Any) -> String {
        library.render(model, withTemplate: template) ?? "<!doctype html><title>Error</title><p>Page unavailable.</p>"
    }

    /// The error page of `error`; a rate limit's also says when to retry (`Retry-After`).
    func error(_ error: OnboardingError) -> Response {
        var response = self.error(status: error.status, title: error.title, message: error.message, offersRetry: error.offersRetry)
        if case .tooManyRequests(let seconds) = error {
            response.headers[.retryAfter] = String(seconds)
        }
        return response
    }

    func error(status: HTTPResponse.Status, title: String, message: String, reference: String? = nil, offersRetry: Bool = true) -> Response {
        page(
            "error",
            ErrorPageModel(
                platformName: platformName,
                status: Int(status.code),
                title: title,
                message: message,
                reference: reference,
                offersRetry: offersRetry
            ),
            status: status
        )
    }
}

/// A start-up failure with a message for the operator.
public enum StartupError: Error, CustomStringConvertible {
    case missingTemplates(directory: String, missing: [String])
    case missingPublic(directory: String)
    case insecureDataDirectory(directory: String, reason: String)

    public var description: String {
        switch self {
        case .missingTemplates(let directory, let missing):
            "templates missing in '\(directory)': \(missing.map { $0 + ".mustache" }.joined(separator: ", ")) "
                + "(set resources.directory / --resources-directory to the folder that holds Templates/ and Public/)"
        case .insecureDataDirectory(let directory, let reason):
            "cannot make data.directory '\(directory)' private to this user (folder 0700, database files 0600): \(reason)"
        case .missingPublic(let directory):
            "static files folder '\(directory)' not found (set resources.directory to the folder that holds Public/)"
        }
    }
}
