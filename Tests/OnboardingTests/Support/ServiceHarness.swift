import Configuration
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OnboardCrypto
import SquareEmulator
import Synchronization
import TestSupport
import Testing

@testable import Onboarding

/// A live Square emulator on a loopback port, and the service built by `buildApplication` against it.
struct ServiceHarness: Sendable {
    static let clientId = "sandbox-sq0idb-service-test"
    static let clientSecret = "sandbox-sq0csb-service-test-secret"
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    let emulator: SquareEmulator
    /// The emulator's own test client: the browser's view of Square's consent page.
    let square: any TestClientProtocol
    let emulatorPort: Int
    let dataDirectory: String
    let keys: String
    let clock: TestClock
    let logs: LogCollector

    /// Starts the emulator, runs `body`, then stops it and removes the data folder.
    static func run(
        redirectURL: String = "http://127.0.0.1:8080/oauth/callback",
        _ body: @Sendable (ServiceHarness) async throws -> Void
    ) async throws {
        let emulator = SquareEmulator(
            application: EmulatedApplication(
                name: "Test Platform",
                clientId: clientId,
                clientSecret: clientSecret,
                redirectURL: redirectURL
            )
        )
        let dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("so-test-\(SecureRandom.urlSafeToken(byteCount: 6))").path
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        try await emulator.makeApplication().test(.live) { square in
            let harness = ServiceHarness(
                emulator: emulator,
                square: square,
                emulatorPort: try #require(square.port),
                dataDirectory: dataDirectory,
                keys: try KeyRing(keys: [("t1", .generate())]).serialized,
                clock: TestClock(),
                logs: LogCollector()
            )
            try await body(harness)
        }
    }

    /// Configuration as an operator would write it, plus `overrides`.
    func configuration(_ overrides: [String: String] = [:]) throws -> AppConfiguration {
        var values: [String: String] = [
            "square.environment": "http://127.0.0.1:\(emulatorPort)", "square.clientId": Self.clientId,
            "square.clientSecret": Self.clientSecret, "square.flow": "pkce", "square.timeoutSeconds": "2",
            "data.directory": dataDirectory, "resources.directory": Self.packageRoot, "onboard.encryptionKeys": keys,
            "platform.name": "Acme Payouts", "square.scopes": "MERCHANT_PROFILE_READ PAYMENTS_READ ORDERS_WRITE",
            "refresh.enabled": "false", "refresh.pacingMilliseconds": "0",
            // Every test's browser is one client; RateLimitTests sets low limits to test them.
            "rateLimit.startPerMinute": "1000", "rateLimit.callbackPerMinute": "1000",
            // Test webhook receivers listen on loopback; WebhookTargetTests turns this off to see them refused.
            "webhooks.allowPrivateTargets": "true",
        ]
        values.merge(overrides) { $1 }
        return try AppConfiguration(reader: Self.reader(values))
    }

    /// The values as environment variables, parsed the way an operator's settings are.
    static func reader(_ values: [String: String]) -> ConfigReader {
        let environment = Dictionary(uniqueKeysWithValues: values.map { (ConfigurationError.environmentVariableName($0.key), $0.value) })
        return ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))
    }

    /// Builds the service and hands a fresh browser to `body`.
    func withService(
        _ overrides: [String: String] = [:],
        _ body: @Sendable (Browser) async throws -> Void
    ) async throws {
        let logger = Logger(label: "service") { _ in CollectingLogHandler(collector: logs) }
        let app = try await buildApplication(configuration: configuration(overrides), clock: clock.appClock, logger: logger)
        try await app.test(.router) { client in try await body(Browser(client: client)) }
    }

    /// Builds the service on a free loopback port and hands the port to `body`, for raw connections (`RawHTTP`).
    func withLiveService(_ overrides: [String: String] = [:], _ body: @Sendable (Int) async throws -> Void) async throws {
        let logger = Logger(label: "service") { _ in CollectingLogHandler(collector: logs) }
        let configuration = try configuration(["http.port": "0"].merging(overrides) { $1 })
        let app = try await buildApplication(configuration: configuration, clock: clock.appClock, logger: logger)
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    /// Follows Square's consent page the way a person would; returns the callback path with its query.
    func consent(at location: String, decision: String = "allow", merchantId: String = "MLSANDBOXCAFE") async throws -> String {
        let url = try #require(URL(string: location))
        #expect(url.port == emulatorPort)
        let page = try await square.execute(uri: url.path + "?" + (url.query ?? ""), method: .get)
        #expect(page.status == .ok)
        let requestId = try #require(String(buffer: page.body).firstMatch(of: /name="request_id" value="([^"]+)"/)?.output.1)
        let answer = try await square.execute(
            uri: "/oauth2/authorize/decision",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "request_id=\(requestId)&decision=\(decision)&merchant_id=\(merchantId)")
        )
        let location = try #require(answer.headers[.location])
        let callback = try #require(URL(string: location))
        return callback.path + "?" + (callback.query ?? "")
    }

    /// Connect page → Connect → Square consent (Allow) → the callback URL, not yet opened.
    func startAndConsent(_ browser: Browser, decision: String = "allow", merchantId: String = "MLSANDBOXCAFE") async throws -> String {
        let start = try await browser.pressConnect()
        #expect(start.status == .seeOther)
        let location = try #require(start.headers[.location])
        return try await consent(at: location, decision: decision, merchantId: merchantId)
    }

    /// The whole connect flow; returns the callback's answer once the new connection's status check has landed.
    func connect(_ browser: Browser, merchantId: String = "MLSANDBOXCAFE") async throws -> TestResponse {
        let callback = try await startAndConsent(browser, merchantId: merchantId)
        let answer = try await browser.get(callback)
        if answer.headers[.location] == "/connection?connected=1" { try await waitForStatusCheck(merchantId) }
        return answer
    }

    /// Waits (up to 10 s) until the background status check of a new connection has recorded Square's answer.
    func waitForStatusCheck(_ merchantId: String) async throws {
        let database = try database()
        for _ in 0..<500 {
            let unconfirmed = try await database.allConnections().filter { $0.merchantId == merchantId && $0.scopesUnconfirmed }
            if unconfirmed.isEmpty { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the status check of \(merchantId)'s new connection never landed")
    }

    /// The store as a second process would see it.
    func database() throws -> AppDatabase {
        try AppDatabase.open(path: databasePath)
    }

    /// The SQLite file itself, for reading or changing rows the way an operator or an attacker with the file could.
    func rawDatabase() throws -> DatabaseQueue {
        try DatabaseQueue(path: databasePath)
    }

    var databasePath: String { (dataDirectory as NSString).appendingPathComponent("square-onboard.sqlite") }

    /// The stable environment name the harness's configuration stores connections under.
    static let environment = "custom"
}

/// A browser: keeps cookies between requests and submits forms.
final class Browser: Sendable {
    let client: any TestClientProtocol
    private let jar = Mutex<[String: String]>([:])

    init(client: any TestClientProtocol) { self.client = client }

    var cookies: [String: String] { jar.withLock { $0 } }

    func get(_ uri: String) async throws -> TestResponse {
        try await send(uri, method: .get, body: nil)
    }

    func post(_ uri: String, form: [String: String]) async throws -> TestResponse {
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
        return try await send(uri, method: .post, body: body)
    }

    /// Opens the connect page and presses Connect.
    func pressConnect() async throws -> TestResponse {
        let page = try await get("/")
        let csrf = try #require(String(buffer: page.body).firstMatch(of: /name="csrf_token" value="([^"]+)"/)?.output.1)
        return try await post("/oauth/start", form: ["csrf_token": String(csrf)])
    }

    /// The CSRF token of the form on the page at `uri`.
    func csrfToken(on uri: String) async throws -> String {
        let page = try await get(uri)
        return String(try #require(String(buffer: page.body).firstMatch(of: /name="csrf_token" value="([^"]+)"/)?.output.1))
    }

    func setCookie(_ name: String, _ value: String) { jar.withLock { $0[name] = value } }

    private func send(_ uri: String, method: HTTPRequest.Method, body: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        let cookieHeader = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        if !cookieHeader.isEmpty { headers[.cookie] = cookieHeader }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(
            uri: uri,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        )
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            let expired = header.contains("Max-Age=0")
            jar.withLock { $0[String(pair[0])] = expired ? nil : String(pair[1]) }
        }
        return response
    }
}

/// The service's clock, moved by tests.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    func advance(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    var appClock: AppClock { AppClock { [self] in Date().addingTimeInterval(offset.withLock { $0 }) } }
}

extension TestResponse {
    var html: String { String(buffer: body) }
}
