import Foundation
import Hummingbird
import HummingbirdTesting
import OnboardCrypto
import SquareEmulator
import Testing

@testable import Onboarding

@Suite("Bad callbacks and failing exchanges: a clear page, the right status, nothing half-written")
struct CallbackFailureTests {
    typealias H = ServiceHarness

    /// The page says what happened and offers a way back; nothing was connected.
    func expectErrorPage(
        _ page: TestResponse,
        status: HTTPResponse.Status,
        title: String,
        harness h: ServiceHarness,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(page.status == status, sourceLocation: sourceLocation)
        #expect(page.html.contains(#"<h1 id="error-title">\#(title)</h1>"#), "page: \(page.html)", sourceLocation: sourceLocation)
        #expect(page.html.contains(#"<a class="button primary" id="try-again" href="/">Try again</a>"#), sourceLocation: sourceLocation)
        #expect(page.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
        #expect(try await h.database().counts().connections == 0, "no connection was written", sourceLocation: sourceLocation)
    }

    @Test func callbackWithoutStateIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                try await expectErrorPage(
                    try await browser.get("/oauth/callback?code=sq0cgp-x"),
                    status: .badRequest,
                    title: "That link is not a complete Square answer",
                    harness: h
                )
            }
        }
    }

    @Test func callbackWithUnknownStateIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await browser.pressConnect()
                try await expectErrorPage(
                    try await browser.get("/oauth/callback?code=sq0cgp-x&state=made-up-state"),
                    status: .badRequest,
                    title: "We don&#39;t recognise this connection attempt",
                    harness: h
                )
            }
        }
    }

    @Test func callbackWithExpiredStateIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                h.clock.advance(by: 10 * 60 + 1)
                try await expectErrorPage(
                    try await browser.get(callback),
                    status: .badRequest,
                    title: "This connection attempt has expired",
                    harness: h
                )
                let actions = try await h.database().auditEvents().map(\.action.rawValue)
                #expect(actions.last == "authorization.rejected")
            }
        }
    }

    @Test func callbackWithReusedStateIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                #expect(try await browser.get(callback).status == .seeOther)
                let again = try await browser.get(callback)
                #expect(again.status == .badRequest)
                #expect(again.html.contains("This connection attempt was already used"))
            }
        }
    }

    @Test func callbackFromAnotherBrowserIsRejectedAndLeavesTheStateUsable() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                let stranger = Browser(client: browser.client)
                try await expectErrorPage(
                    try await stranger.get(callback),
                    status: .forbidden,
                    title: "This connection was started in another browser",
                    harness: h
                )
                stranger.setCookie("so_bind", String(repeating: "A", count: 43))
                #expect(try await stranger.get(callback).status == .forbidden)
                #expect(try await browser.get(callback).status == .seeOther, "the real browser can still finish")
            }
        }
    }

    @Test func callbackWithoutCodeIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                let withoutCode = callback.replacing(/code=[^&]+&?/, with: "")
                try await expectErrorPage(
                    try await browser.get(withoutCode),
                    status: .badRequest,
                    title: "Square did not send an authorization code",
                    harness: h
                )
            }
        }
    }

    @Test func denyingOnSquareShowsTheDenialPage() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser, decision: "deny")
                #expect(callback.contains("error=access_denied"))
                let page = try await browser.get(callback)
                try await expectErrorPage(page, status: .forbidden, title: "You chose not to connect", harness: h)
                #expect(page.html.contains("Nothing was shared with us"))
            }
        }
    }

    @Test func otherSquareErrorsAreShownSafely() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                let state = try #require(callback.firstMatch(of: /state=([^&]+)/)?.output.1)
                let page = try await browser.get("/oauth/callback?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=\(state)")
                try await expectErrorPage(page, status: .badGateway, title: "Square could not complete the authorization", harness: h)
                #expect(!page.html.contains("<script>"))
                #expect(page.html.contains("&lt;script&gt;"))
            }
        }
    }

    @Test(arguments: [
        (EmulatorFault.status(503, path: "/oauth2/token"), HTTPResponse.Status.badGateway, "Square is not answering properly right now"),
        (.status(500, path: "/oauth2/token"), .badGateway, "Square is not answering properly right now"),
        (.status(429, path: "/oauth2/token"), .serviceUnavailable, "Square is busy right now"),
        (.status(400, path: "/oauth2/token"), .badRequest, "Square rejected the authorization"),
        (.malformedBody(path: "/oauth2/token"), .badGateway, "Square is not answering properly right now"),
        (.closeConnection(path: "/oauth2/token"), .badGateway, "Square is not answering properly right now"),
        (.latency(milliseconds: 4000, path: "/oauth2/token"), .gatewayTimeout, "Square did not answer in time"),
    ])
    func failingExchangeShowsAClearPageAndStoresNothing(
        fault: EmulatorFault,
        status: HTTPResponse.Status,
        title: String
    ) async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                h.emulator.inject(fault)
                try await expectErrorPage(try await browser.get(callback), status: status, title: title, harness: h)
                let state = String(try #require(callback.firstMatch(of: /state=([^&]+)/)?.output.1))
                let authorization = try #require(try await h.database().authorization(stateHash: sha256Hex(state)))
                #expect(authorization.outcome?.rawValue == "exchange_failed")
                #expect(try await h.database().auditEvents().map(\.action.rawValue).last == "authorization.failed")
                // Try again works straight away.
                #expect(try await h.connect(browser).status == .seeOther)
            }
        }
    }

    @Test func expiredCodeIsRejectedBySquare() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                h.emulator.advanceClock(by: 6 * 60)
                try await expectErrorPage(
                    try await browser.get(callback),
                    status: .badRequest,
                    title: "Square rejected the authorization",
                    harness: h
                )
            }
        }
    }

    @Test func overlongOrMalformedCallbacksAreRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let long = String(repeating: "a", count: 5000)
                try await expectErrorPage(
                    try await browser.get("/oauth/callback?state=\(long)&code=x"),
                    status: .badRequest,
                    title: "That link is not a complete Square answer",
                    harness: h
                )
                let state = String(repeating: "b", count: 1500)
                #expect(try await browser.get("/oauth/callback?state=\(state)").status == .badRequest)
                #expect(try await browser.get("/oauth/callback?state=%ZZ%&code=%%").status == .badRequest)
            }
        }
    }

    @Test func startWithoutAValidCSRFTokenIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await browser.get("/")
                let wrong = try await browser.post("/oauth/start", form: ["csrf_token": "forged"])
                #expect(wrong.status == .forbidden)
                #expect(wrong.html.contains("This form has expired"))
                #expect(try await browser.post("/oauth/start", form: [:]).status == .forbidden)
                let cookieless = Browser(client: browser.client)
                let token = try #require(browser.cookies["so_csrf"])
                #expect(try await cookieless.post("/oauth/start", form: ["csrf_token": token]).status == .forbidden)
                #expect(try await h.database().counts().authorizations == 0)
            }
        }
    }

    @Test func oversizedFormIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let page = try await browser.post("/oauth/start", form: ["csrf_token": String(repeating: "x", count: 10_000)])
                #expect(page.status == .contentTooLarge)
                #expect(page.html.contains("That request is too large"))
            }
        }
    }

    @Test func unknownPagesGetANotFoundPage() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let page = try await browser.get("/wp-admin")
                #expect(page.status == .notFound)
                #expect(page.html.contains("Page not found"))
            }
        }
    }

    @Test(arguments: ["planted", "signedByAnotherService"])
    func aBindingCookieWeDidNotIssueIsReplacedSoItCannotPreBindAVictim(kind: String) async throws {
        try await H.run { h in
            try await h.withService { victim in
                // The attacker plants a binding they know in the victim's browser before the victim presses Connect.
                let token = String(repeating: "A", count: 43)
                let planted =
                    kind == "planted" ? token : try KeyRing(keys: [("k1", .generate())]).sign(token, purpose: BrowserCookies.bindingPurpose)
                victim.setCookie("so_bind", planted)
                let callback = try await h.startAndConsent(victim)
                #expect(victim.cookies["so_bind"] != planted, "a fresh binding was issued")

                let attacker = Browser(client: victim.client)
                attacker.setCookie("so_bind", planted)
                #expect(try await attacker.get(callback).status == .forbidden, "the planted value does not complete the flow")
                #expect(try await victim.get(callback).status == .seeOther)
            }
        }
    }

    @Test func ourOwnBindingIsKeptSoTwoTabsCanConnect() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let first = try await h.startAndConsent(browser, merchantId: "MLSANDBOXCAFE")
                let issued = try #require(browser.cookies["so_bind"])
                #expect(issued.split(separator: ".").count == 3, "token.keyId.tag")
                let second = try await h.startAndConsent(browser, merchantId: "MLSANDBOXBIKE")
                #expect(browser.cookies["so_bind"] == issued)
                #expect(try await browser.get(first).status == .seeOther)
                #expect(try await browser.get(second).status == .seeOther)
            }
        }
    }
}
