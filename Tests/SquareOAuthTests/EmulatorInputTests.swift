import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import OnboardCrypto
import SquareEmulator
import SquareOAuth
import Testing

@Suite("The emulator answers bad input the way Square does")
struct EmulatorInputTests {
    typealias H = EmulatorHarness

    @Test(arguments: [
        ("client_id=someone-else&scope=PAYMENTS_READ", "Unknown application"),
        ("scope=PAYMENTS_READ", "Missing client_id"),
        ("client_id=\(H.clientId)&scope=PAYMENTS_READ&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", "Redirect URL mismatch"),
    ])
    func authorizeErrorsThatCannotRedirectShowAPage(query: String, title: String) async throws {
        try await H.run { h in
            let page = try await h.browser.execute(uri: "/oauth2/authorize?\(query)", method: .get)
            #expect(page.status == .badRequest)
            #expect(String(buffer: page.body).contains(title))
            #expect(page.headers[.location] == nil)
        }
    }

    @Test(arguments: [
        ("scope=", "invalid_request", "missing_scope"),
        ("scope=PAYMENTS_READ+LAUNCH_MISSILES", "invalid_scope", "unknown_scope_LAUNCH_MISSILES"),
        (
            "scope=PAYMENTS_READ&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain",
            "invalid_request", "unsupported_code_challenge_method"
        ),
        ("scope=PAYMENTS_READ&code_challenge=short", "invalid_request", "invalid_code_challenge"),
    ])
    func authorizeErrorsRedirectBackWithError(query: String, error: String, description: String) async throws {
        try await H.run { h in
            let answer = try await h.browser.execute(
                uri: "/oauth2/authorize?client_id=\(H.clientId)&state=s-1&\(query)",
                method: .get
            )
            #expect(answer.status == .found)
            let items = H.queryItems(try #require(answer.headers[.location]))
            #expect(items["error"] == error)
            #expect(items["error_description"] == description)
            #expect(items["state"] == "s-1")
        }
    }

    @Test func consentPageShowsAppScopesInPlainWordsAndMerchants() async throws {
        try await H.run { h in
            let page = try await h.browser.execute(
                uri: "/oauth2/authorize?client_id=\(H.clientId)&scope=PAYMENTS_READ+ORDERS_WRITE&state=x",
                method: .get
            )
            let html = String(buffer: page.body)
            #expect(html.contains("Test Platform"))
            #expect(html.contains("See your payments and refunds"))
            #expect(html.contains("Create and change orders"))
            #expect(html.contains("Sandbox Café"))
            #expect(page.headers[.cacheControl] == "no-store")
        }
    }

    @Test func consentPageFullWidthFieldsCountTheirPaddingAndBorder() async throws {
        try await H.run { h in
            let page = try await h.browser.execute(uri: "/oauth2/authorize?client_id=\(H.clientId)&scope=PAYMENTS_READ", method: .get)
            let html = String(buffer: page.body)
            #expect(html.contains(#"<input id="business_name""#))
            let css = String(try #require(html.firstMatch(of: /<style>([^<]*)<\/style>/)?.output.1))
            // Each rule as its selectors and its declarations; `width:100%` on a content-box field adds its
            // padding and border (20 px) to the card's width.
            let rules: [(selectors: Set<String>, declarations: [String: String])] = css.split(separator: "}").compactMap { rule in
                let parts = rule.split(separator: "{", maxSplits: 1)
                guard parts.count == 2 else { return nil }
                let selectors = Set(parts[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
                var declarations: [String: String] = [:]
                for declaration in parts[1].split(separator: ";") {
                    let pair = declaration.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                    if pair.count == 2 { declarations[pair[0]] = pair[1] }
                }
                return (selectors, declarations)
            }
            let inputRules = rules.filter { $0.selectors.contains("input") }
            #expect(!inputRules.isEmpty)
            #expect(inputRules.contains { $0.declarations["width"] == "100%" })
            for rule in inputRules where rule.declarations["width"] == "100%" {
                #expect(rule.declarations["box-sizing"] == "border-box", "input rule \(rule.selectors) overflows the card")
            }
        }
    }

    @Test func denyRedirectsWithAccessDeniedAndTheState() async throws {
        try await H.run { h in
            let items = try await h.consent(state: "keep-me", decision: "deny")
            #expect(items == ["error": "access_denied", "error_description": "user_denied", "state": "keep-me"])
        }
    }

    @Test func newSandboxMerchantCanBeCreatedOnTheConsentPage() async throws {
        try await H.run { h in
            let items = try await h.consent(merchantId: "new")
            let token = try await h.square.obtainToken(
                .authorizationCode(
                    clientId: H.clientId,
                    code: Secret(try #require(items["code"])),
                    clientSecret: Secret(H.clientSecret)
                )
            )
            let merchant = try #require(token.merchantId)
            #expect(merchant.count == 13 && merchant.hasPrefix("ML"))
            #expect(h.emulator.merchants.contains { $0.id == merchant })
        }
    }

    @Test func consentFormsWorkOnceAndExpire() async throws {
        try await H.run { h in
            let page = try await h.browser.execute(
                uri: "/oauth2/authorize?client_id=\(H.clientId)&scope=PAYMENTS_READ",
                method: .get
            )
            let requestId = try #require(String(buffer: page.body).firstMatch(of: /name="request_id" value="([^"]+)"/)?.output.1)
            let form = ByteBuffer(string: "request_id=\(requestId)&decision=allow&merchant_id=MLSANDBOXCAFE")
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            #expect(try await h.browser.execute(uri: "/oauth2/authorize/decision", method: .post, headers: headers, body: form).status == .found)
            #expect(try await h.browser.execute(uri: "/oauth2/authorize/decision", method: .post, headers: headers, body: form).status == .badRequest)

            let later = try await h.browser.execute(
                uri: "/oauth2/authorize?client_id=\(H.clientId)&scope=PAYMENTS_READ",
                method: .get
            )
            let laterId = try #require(String(buffer: later.body).firstMatch(of: /name="request_id" value="([^"]+)"/)?.output.1)
            h.emulator.advanceClock(by: 31 * 60)
            let expired = try await h.browser.execute(
                uri: "/oauth2/authorize/decision",
                method: .post,
                headers: headers,
                body: ByteBuffer(string: "request_id=\(laterId)&decision=allow")
            )
            #expect(expired.status == .badRequest)
            #expect(String(buffer: expired.body).contains("expired"))
        }
    }

    @Test(arguments: [
        ("not json", "EXPECTED_JSON_BODY", nil as String?),
        (#"{"client_id":"x"}"#, "MISSING_REQUIRED_PARAMETER", "grant_type"),
        (#"{"client_id":"\#(String(repeating: "a", count: 192))","grant_type":"authorization_code"}"#, "VALUE_TOO_LONG", "client_id"),
        (#"{"client_id":"\#(H.clientId)","grant_type":"password"}"#, "VALUE_TOO_SHORT", "grant_type"),
        (#"{"client_id":"\#(H.clientId)","grant_type":"client_credentials"}"#, "INVALID_VALUE", "grant_type"),
        (
            #"{"client_id":"\#(H.clientId)","grant_type":"authorization_code","client_secret":"\#(H.clientSecret)"}"#,
            "MISSING_REQUIRED_PARAMETER", "code"
        ),
        (
            #"{"client_id":"\#(H.clientId)","grant_type":"authorization_code","code":"c","code_verifier":"short"}"#,
            "VALUE_TOO_SHORT", "code_verifier"
        ),
        (#"{"client_id":"\#(H.clientId)","grant_type":"refresh_token"}"#, "MISSING_REQUIRED_PARAMETER", "refresh_token"),
        (#"{"client_id":\#(42),"grant_type":"refresh_token"}"#, "INVALID_VALUE", "client_id"),
    ])
    func tokenEndpointRejectsBadBodiesWithSquaresEnvelope(body: String, code: String, field: String?) async throws {
        try await H.run { h in
            let answer = try await h.post("/oauth2/token", json: body)
            #expect(answer.status == 400)
            let envelope = try JSONDecoder().decode(SquareErrorEnvelope.self, from: Data(answer.body.utf8))
            #expect(envelope.errors.first?.category == "INVALID_REQUEST_ERROR")
            #expect(envelope.errors.first?.code == code)
            #expect(envelope.errors.first?.field == field)
        }
    }

    @Test func unknownClientGetsNotAuthorized() async throws {
        try await H.run { h in
            let answer = try await h.post("/oauth2/token", json: #"{"client_id":"stranger","grant_type":"refresh_token","refresh_token":"EQAAx"}"#)
            #expect(answer.status == 401)
            #expect(answer.body == #"{"message":"Not Authorized","type":"service.not_authorized"}"#)
        }
    }

    @Test func wrongContentTypeUnknownRoutesAndHugeBodiesGetEnvelopes() async throws {
        try await H.run { h in
            let form = try await h.browser.execute(
                uri: "/oauth2/token",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "grant_type=refresh_token")
            )
            #expect(form.status == .badRequest)
            #expect(String(buffer: form.body).contains("INVALID_CONTENT_TYPE"))

            let unknown = try await h.browser.execute(uri: "/oauth2/tokens", method: .post)
            #expect(unknown.status == .notFound)
            #expect(String(buffer: unknown.body).contains(#""code":"NOT_FOUND""#))

            let huge = try await h.post("/oauth2/token", json: #"{"client_id":""# + String(repeating: "a", count: 70_000) + #""}"#)
            #expect(huge.status == 413)
            #expect(huge.body.contains(#""errors""#))
        }
    }

    @Test func tokenStatusWithoutBearerIsUnauthorized() async throws {
        try await H.run { h in
            for headers: HTTPFields in [[:], [.authorization: "Client x"], [.authorization: "Bearer EAAAunknown"]] {
                let answer = try await h.post("/oauth2/token/status", json: "", headers: headers)
                #expect(answer.status == 401)
                #expect(answer.body.contains(#""category":"AUTHENTICATION_ERROR""#))
            }
        }
    }
}
