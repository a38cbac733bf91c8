import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OnboardCrypto
import SquareEmulator
import SquareOAuth
import TestSupport
import Testing

/// A live emulator on a loopback port the test picks, a client pointed at it, and a log collector.
struct EmulatorHarness {
    static let clientId = "sandbox-sq0idb-test-app"
    static let clientSecret = "sandbox-sq0csb-test-secret-value"
    static let redirectURL = "http://127.0.0.1:9/oauth/callback"

    let emulator: SquareEmulator
    let square: SquareOAuthClient
    let browser: any TestClientProtocol
    let logs: LogCollector
    let port: Int

    /// Starts an emulator on port 0, runs `body`, and stops it. The client's whole-call timeout is long (a loaded CI
    /// machine once took over 5 s for one token call); the tests of timeouts give their calls short ones of their own.
    static func run(
        timeout: Duration = .seconds(30),
        maxResponseBytes: Int = 64 * 1024,
        _ body: @Sendable (EmulatorHarness) async throws -> Void
    ) async throws {
        let logs = LogCollector()
        let logger = Logger(label: "test") { _ in CollectingLogHandler(collector: logs) }
        let emulator = SquareEmulator(
            application: EmulatedApplication(
                name: "Test Platform",
                clientId: clientId,
                clientSecret: clientSecret,
                redirectURL: redirectURL
            ),
            logger: logger
        )
        try await emulator.makeApplication().test(.live) { browser in
            let port = try #require(browser.port)
            let square = SquareOAuthClient(
                configuration: .init(
                    environment: .custom(URL(string: "http://127.0.0.1:\(port)")!),
                    timeout: timeout,
                    maxResponseBytes: maxResponseBytes
                ),
                logger: logger
            )
            try await body(EmulatorHarness(emulator: emulator, square: square, browser: browser, logs: logs, port: port))
        }
    }

    /// Another client for this emulator with its own whole-call timeout, logging into the same collector.
    func client(timeout: Duration) -> SquareOAuthClient {
        SquareOAuthClient(
            configuration: .init(environment: .custom(URL(string: "http://127.0.0.1:\(port)")!), timeout: timeout),
            logger: Logger(label: "test") { _ in CollectingLogHandler(collector: logs) }
        )
    }

    /// Walks the consent page like a browser and returns the callback URL's query items.
    func consent(
        scopes: [String] = ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"],
        state: String = "state-123",
        codeChallenge: String? = nil,
        decision: String = "allow",
        merchantId: String = "MLSANDBOXCAFE"
    ) async throws -> [String: String] {
        let url = AuthorizeURL(
            environment: square.configuration.environment,
            clientId: Self.clientId,
            scopes: scopes,
            state: state,
            codeChallenge: codeChallenge
        )
        let page = try await browser.execute(uri: url.url.relativePathWithQuery, method: .get)
        #expect(page.status == .ok)
        let html = String(buffer: page.body)
        let requestId = try #require(html.firstMatch(of: /name="request_id" value="([^"]+)"/)?.output.1)
        let form = "request_id=\(requestId)&decision=\(decision)&merchant_id=\(merchantId)"
        let answer = try await browser.execute(
            uri: "/oauth2/authorize/decision",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: form)
        )
        #expect(answer.status == .found)
        let location = try #require(answer.headers[.location])
        #expect(location.hasPrefix(Self.redirectURL + "?"))
        return Self.queryItems(location)
    }

    /// Consents and returns the authorization code.
    func authorizationCode(
        codeChallenge: String? = nil,
        scopes: [String] = ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"]
    )
        async throws -> Secret
    {
        let items = try await consent(scopes: scopes, codeChallenge: codeChallenge)
        return Secret(try #require(items["code"]))
    }

    /// A full code-flow connection.
    func connectWithSecret(scopes: [String] = ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"]) async throws -> ObtainTokenResponse {
        let code = try await authorizationCode(scopes: scopes)
        return try await square.obtainToken(
            .authorizationCode(
                clientId: Self.clientId,
                code: code,
                clientSecret: Secret(Self.clientSecret)
            )
        )
    }

    /// A full PKCE connection.
    func connectWithPKCE() async throws -> ObtainTokenResponse {
        let verifier = CodeVerifier()
        let code = try await authorizationCode(codeChallenge: verifier.codeChallenge)
        return try await square.obtainToken(
            .authorizationCode(
                clientId: Self.clientId,
                code: code,
                codeVerifier: Secret(verifier.value)
            )
        )
    }

    /// Calls an emulator endpoint with raw JSON, as a non-Swift client would.
    func post(_ path: String, json: String, headers: HTTPFields = [:]) async throws -> (status: Int, body: String) {
        var fields: HTTPFields = [.contentType: "application/json"]
        fields.append(contentsOf: headers)
        let response = try await browser.execute(uri: path, method: .post, headers: fields, body: ByteBuffer(string: json))
        return (Int(response.status.code), String(buffer: response.body))
    }

    static func queryItems(_ url: String) -> [String: String] {
        var items: [String: String] = [:]
        for item in URLComponents(string: url)?.queryItems ?? [] { items[item.name] = item.value }
        return items
    }
}

extension URL {
    var relativePathWithQuery: String { path + (query.map { "?" + $0 } ?? "") }
}

/// Expects `body` to throw a `SquareError` and returns it.
func expectSquareError(
    _ body: () async throws -> some Any,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> SquareError? {
    do {
        _ = try await body()
        Issue.record("expected a SquareError", sourceLocation: sourceLocation)
        return nil
    } catch let error as SquareError {
        return error
    } catch {
        Issue.record("expected a SquareError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
