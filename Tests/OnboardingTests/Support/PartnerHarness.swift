import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OnboardCrypto
import Testing

@testable import Onboarding

/// A partner made the way `partner add` makes one, and calls to the partner API with its key.
struct TestPartner: Sendable {
    let record: PartnerRecord
    let apiKey: String
    let secret: String

    static let returnURL = "https://acme.example/onboarding/done"

    /// Adds a partner to the harness's database (before or while the service runs).
    static func add(
        _ h: ServiceHarness,
        name: String = "acme",
        displayName: String = "Acme Payroll",
        returnURLs: [String] = ["https://acme.example/onboarding/"],
        popupOrigins: [String] = ["https://acme.example"],
        webhookURL: String? = nil
    ) async throws -> TestPartner {
        let configuration = try h.configuration()
        let directory = PartnerDirectory(
            store: try h.database(),
            vault: TokenVault(keyRing: configuration.keyRing),
            clock: h.clock.appClock,
            logger: Logger(label: "test")
        )
        let (partner, secrets) = try await directory.add(
            name: name,
            settings: .init(displayName: displayName, returnURLs: returnURLs, popupOrigins: popupOrigins, webhookURL: webhookURL),
            actor: .cli
        )
        return TestPartner(record: partner, apiKey: try #require(secrets.apiKey), secret: try #require(secrets.signingSecret))
    }

    /// One API call with this partner's key; `json` is sent as the body.
    func call(
        _ browser: Browser,
        _ method: HTTPRequest.Method,
        _ path: String,
        json: String? = nil,
        headers extra: HTTPFields = [:],
        key: String? = nil
    ) async throws -> TestResponse {
        var headers = extra
        headers[.authorization] = "Bearer \(key ?? apiKey)"
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await browser.client.execute(uri: "/api/v1" + path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Makes a link and returns its JSON answer.
    func createLink(
        _ browser: Browser,
        reference: String = "acct-42",
        returnURL: String = returnURL,
        mode: String = "redirect",
        extra: String = ""
    ) async throws -> [String: Any] {
        let answer = try await call(
            browser,
            .post,
            "/onboarding-links",
            json: #"{"reference":"\#(reference)","return_url":"\#(returnURL)","mode":"\#(mode)"\#(extra)}"#
        )
        #expect(answer.status == .created, "\(answer.html)")
        return try answer.jsonObject()
    }

    /// Makes a link, follows it through Square's consent as `merchantId` (Allow or Deny) and opens the callback;
    /// returns the callback's answer.
    func connect(
        _ h: ServiceHarness,
        _ browser: Browser,
        merchantId: String = "MLSANDBOXCAFE",
        reference: String = "acct-42",
        mode: String = "redirect",
        decision: String = "allow"
    ) async throws -> TestResponse {
        let link = try await createLink(browser, reference: reference, mode: mode)
        let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
        let callback = try await h.consent(at: try #require(start.headers[.location]), decision: decision, merchantId: merchantId)
        return try await browser.get(callback)
    }

    /// The path of a link's `url`.
    static func path(of link: [String: Any]) throws -> String {
        let url = try #require(link["url"] as? String)
        return try #require(URL(string: url)).path
    }

    /// Whether a return URL's query carries a good signature of this partner's, computed as the partner guide tells partners.
    func verify(_ location: String) throws -> [String: String] {
        let components = try #require(URLComponents(string: location))
        var values: [String: String] = [:]
        for item in components.queryItems ?? [] { values[item.name] = item.value ?? "" }
        let message = ["link_id", "status", "result", "merchant_id", "reference", "error", "timestamp"].map { values[$0] ?? "" }
            .joined(separator: "\n")
        let key = Array(try #require(Data(base64Encoded: String(secret.dropFirst("whsec_".count)))))
        let expected = HMACSHA256.authenticationCode(for: Array(message.utf8), key: key).map { String(format: "%02x", $0) }.joined()
        #expect(values["signature"] == expected, "the return URL's signature checks out with the partner's secret")
        return values
    }
}

extension TestResponse {
    /// The body as a JSON object.
    func jsonObject() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8)) as? [String: Any])
    }

    /// The `error.code` of a partner API error answer, nil for any other body.
    var errorCode: String? { (try? apiError())?["code"] as? String }

    /// The `error` object of a partner API error answer.
    func apiError() throws -> [String: Any] {
        try #require(try jsonObject()["error"] as? [String: Any])
    }
}

extension Browser {
    /// Opens a partner's link and presses Connect; returns the answer to the start.
    func pressConnect(link url: String) async throws -> TestResponse {
        let path = try #require(URL(string: url)).path
        let page = try await get(path)
        #expect(page.status == .ok)
        let csrf = try #require(page.html.firstMatch(of: /name="csrf_token" value="([^"]+)"/)?.output.1)
        let link = try #require(page.html.firstMatch(of: /name="link" value="([^"]+)"/)?.output.1)
        return try await post("/oauth/start", form: ["csrf_token": String(csrf), "link": String(link)])
    }
}
