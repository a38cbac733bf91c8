import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing

@testable import Onboarding

/// The router's policy: cross-site posts are refused before a handler runs, and failures keep their meaning.
@Suite("Router policy: origin checks, storage failures, internal errors")
struct RouterPolicyTests {
    typealias H = ServiceHarness

    /// A form post with the browser's cookies and extra headers, as another site's page would send it.
    static func post(_ uri: String, csrf: String, from browser: Browser, headers extra: HTTPFields) async throws -> TestResponse {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.cookie] = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        return try await browser.client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: "csrf_token=\(csrf)"))
    }

    static let crossSite: [HTTPFields] = [
        [.origin: "https://evil.example"],
        [.init("Sec-Fetch-Site")!: "cross-site"],
        [.init("Sec-Fetch-Site")!: "same-site"],
        [.origin: "null", .init("Sec-Fetch-Site")!: "cross-site"],
        [.origin: "http://127.0.0.1:8080.evil.example"],
    ]

    @Test(arguments: crossSite)
    func aCrossSiteDisconnectWithAValidTokenIsRefused(headers: HTTPFields) async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                let csrf = try await browser.csrfToken(on: "/connection")
                let page = try await Self.post("/connection/disconnect", csrf: csrf, from: browser, headers: headers)
                #expect(page.status == .forbidden)
                #expect(page.html.contains("This form has expired"))
                #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"), "Square was not asked")
                #expect(try await h.stored("MLSANDBOXCAFE").status == .active)
            }
        }
    }

    @Test(arguments: crossSite)
    func aCrossSiteConnectWithAValidTokenStartsNothing(headers: HTTPFields) async throws {
        try await H.run { h in
            try await h.withService { browser in
                let csrf = try await browser.csrfToken(on: "/")
                let page = try await Self.post("/oauth/start", csrf: csrf, from: browser, headers: headers)
                #expect(page.status == .forbidden)
                #expect(try await h.database().counts().authorizations == 0)
            }
        }
    }

    /// What browsers send for our own forms; under `Referrer-Policy: no-referrer` Chromium's Origin is `null`.
    static let sameOrigin: [HTTPFields] = [
        [.origin: "http://127.0.0.1:8080", .init("Sec-Fetch-Site")!: "same-origin"],
        [.origin: "null", .init("Sec-Fetch-Site")!: "same-origin"],
    ]

    @Test(arguments: sameOrigin)
    func aSameOriginPostIsAccepted(headers: HTTPFields) async throws {
        try await H.run { h in
            try await h.withService { browser in
                let csrf = try await browser.csrfToken(on: "/")
                let start = try await Self.post("/oauth/start", csrf: csrf, from: browser, headers: headers)
                #expect(start.status == .seeOther)
                #expect(try await h.database().counts().authorizations == 1)
            }
        }
    }

    @Test func whenTheDatabaseIsGoneReadinessSaysSoAndPagesBlameUsNotSquare() async throws {
        try await H.run { h in
            let store = try h.database()
            let configuration = try h.configuration()
            let logger = Logger(label: "service") { _ in CollectingLogHandler(collector: h.logs) }
            let services = AppServices(configuration: configuration, store: store, clock: h.clock.appClock, logger: logger)
            let app = try await buildApplication(services: services)
            try await app.test(.router) { client in
                let browser = Browser(client: client)
                #expect(try await browser.get("/readyz").status == .ok)
                let csrf = try await browser.csrfToken(on: "/")
                try store.close()

                let ready = try await browser.get("/readyz")
                #expect(ready.status == .serviceUnavailable)
                let checks = #""checks":{"database":"unavailable","templates":"ok","encryptionKeys":"ok","shutdown":"no"}"#
                #expect(ready.html == #"{"status":"unavailable",\#(checks)}"#)
                let health = try await browser.get("/healthz")
                #expect(health.status == .ok && health.html == #"{"status":"ok"}"#, "the process is alive: no restart for a database outage")
                let start = try await browser.post("/oauth/start", form: ["csrf_token": csrf])
                #expect(start.status == .serviceUnavailable)
                #expect(start.html.contains("Our database is not answering"))
                #expect(start.html.contains("not Square"))
                #expect(!start.html.contains("Square is"))
            }
            #expect(h.logs.all.contains { $0.contains("Database failure while starting an authorization") })
        }
    }

    struct Exploded: Error {
        var secret = "sq0csp-SECRET-IN-AN-ERROR"
    }

    @Test func anUnexpectedErrorShowsAPlainPageWithAReferenceAndLogsIt() async throws {
        try await H.run { h in
            let logs = LogCollector()
            let pages = try await PageRenderer.load(directory: H.packageRoot + "/Templates", platformName: "Acme Payouts")
            let router = Router(context: AppRequestContext.self)
            router.add(middleware: ErrorPageMiddleware(pages: pages))
            router.get("/explode") { _, _ -> Response in throw Exploded() }
            let logger = Logger(label: "service") { _ in CollectingLogHandler(collector: logs) }
            try await Application(router: router, logger: logger).test(.router) { client in
                let page = try await client.execute(uri: "/explode", method: .get)
                #expect(page.status == .internalServerError)
                #expect(page.html.contains("Something went wrong on our side"))
                #expect(!page.html.contains("SECRET") && !page.html.contains("Exploded"))
                let reference = try #require(page.html.firstMatch(of: /id="error-reference">Reference: <code>([^<]+)</)?.output.1)
                let line = try #require(logs.all.first { $0.contains("Unhandled error") })
                #expect(line.contains(String(reference)), "the log line carries the request id the page shows")
                #expect(line.contains("Exploded") && !line.contains("SECRET"))
            }
        }
    }
}
