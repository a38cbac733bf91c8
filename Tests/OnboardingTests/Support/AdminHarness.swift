import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import TestSupport
import Testing

@testable import Onboarding

/// Admin pages of the tests' own behind the real admin realm: one per role, and an action that records itself.
final class AdminTestPages: Sendable {
    private let done = Mutex<[String]>([])

    /// What the operator and owner actions did, in order.
    var performed: [String] { done.withLock { $0 } }

    func endpoints(for role: AdminRole) -> RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/test/\(role.rawValue)") { _, context -> String in "page for \(role.rawValue), seen by \(context.admin.admin.name)" }
        routes.post("/admin/test/\(role.rawValue)/act") { [self] _, context -> Response in
            self.done.withLock { $0.append("\(role.rawValue) action by \(context.admin.admin.name)") }
            return Response(status: .seeOther, headers: [.location: "/admin/test/\(role.rawValue)"])
        }
        return routes
    }
}

extension ServiceHarness {
    static let password = "correct horse battery staple"

    /// Adds an admin straight to the database; a cheap scrypt cost, which sign-in reads from the stored hash.
    func addAdmin(_ name: String, role: AdminRole, password: String = Self.password) async throws {
        var accounts = AdminAccounts(store: try database(), clock: clock.appClock, logger: Logger(label: "test"))
        accounts.hashParameters = .testing
        _ = try await accounts.add(name: name, role: role, password: password, actor: .cli)
    }

    /// The service's router (`buildRouter`) with `AdminTestPages` added to its admin realm, one page per role.
    func withAdminPages(
        _ overrides: [String: String] = [:],
        _ body: @Sendable (Browser, AdminTestPages) async throws -> Void
    ) async throws {
        let logger = Logger(label: "service") { _ in CollectingLogHandler(collector: logs) }
        let configuration = try configuration(overrides)
        let services = try await AppServices.open(configuration: configuration, clock: clock.appClock, logger: logger)
        let pages = try await PageRenderer.load(directory: Self.packageRoot + "/Templates", platformName: configuration.platformName)
        let testPages = AdminTestPages()
        let router = try buildRouter(
            services: services,
            pages: pages,
            publicDirectory: Self.packageRoot + "/Public",
            partnerDocument: try await PartnerAPIDocument.load()
        ) { admin in
            for role in AdminRole.allCases { admin.add(role, testPages.endpoints(for: role)) }
        }
        try await Application(router: router, logger: logger).test(.router) { client in
            try await body(Browser(client: client), testPages)
        }
    }
}

extension Browser {
    /// Opens the sign-in page (at `page`, which may carry `next`) and submits its form.
    func signIn(_ name: String, password: String = ServiceHarness.password, page: String = "/admin/login") async throws -> TestResponse {
        let form = try await get(page)
        let csrf = try #require(form.html.firstMatch(of: /name="csrf_token" value="([^"]+)"/)?.output.1)
        let next = try #require(form.html.firstMatch(of: /name="next" value="([^"]*)"/)?.output.1)
        return try await post(
            "/admin/login",
            form: ["csrf_token": String(csrf), "next": String(next).replacingOccurrences(of: "&amp;", with: "&"), "name": name, "password": password]
        )
    }

    /// The admin session's CSRF token, from the home page's sign-out form.
    func adminCSRFToken() async throws -> String {
        try await csrfToken(on: "/admin")
    }
}
