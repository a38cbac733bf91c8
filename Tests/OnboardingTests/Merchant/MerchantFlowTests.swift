import Foundation
import Hummingbird
import HummingbirdTesting
import OnboardCrypto
import SquareOAuth
import Testing

@testable import Onboarding

@Suite("The merchant flow: connect page, PKCE authorize, callback, result page, disconnect")
struct MerchantFlowTests {
    typealias H = ServiceHarness

    @Test func connectPageSaysWhoAsksForWhatInPlainWords() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let page = try await browser.get("/")
                #expect(page.status == .ok)
                #expect(page.html.contains(#"<strong id="platform-name">Acme Payouts</strong>"#))
                #expect(page.html.contains("See your business name, locations and contact details"))
                #expect(page.html.contains("See your payments and refunds"))
                #expect(page.html.contains("Create and change orders"))
                #expect(page.html.contains(#"<button id="connect" type="submit""#))
                #expect(page.html.contains("<title>Connect your Square account · Acme Payouts</title>"))
                for scope in ["MERCHANT_PROFILE_READ", "PAYMENTS_READ", "ORDERS_WRITE"] {
                    #expect(page.html.contains("<code>\(scope)</code>"))
                }
                #expect(page.html.contains("on <strong>Square Sandbox Emulator</strong> and approve there"))
                #expect(page.html.contains("Test mode: no real Square account or money is involved."))
                let cookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("so_csrf=") })
                let token = try #require(cookie.split(separator: ";").first?.dropFirst("so_csrf=".count))
                #expect(page.html.contains(#"name="csrf_token" value="\#(token)""#), "the form carries the cookie's token")
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"))
                #expect(!cookie.contains("Secure"), "loopback http gets no Secure flag")
            }
        }
    }

    @Test func connectPageKeepsItsTokenPerVisitorAndReplacesAPlantedOne() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let first = try await browser.csrfToken(on: "/")
                #expect(try await browser.csrfToken(on: "/") == first, "a returning visitor keeps the token of its cookie")
                let other = Browser(client: browser.client)
                let second = try await other.csrfToken(on: "/")
                #expect(second != first, "each new visitor gets its own token")
                #expect(second.count == 43 && Base64URL.isAlphabet(second))

                // 43 characters, as a token is, but with markup: never copied onto the page.
                let planted = #"x"><script>alert(1)</script><b a="012345678"#
                #expect(planted.count == 43)
                let attacker = Browser(client: browser.client)
                attacker.setCookie("so_csrf", planted)
                let page = try await attacker.get("/")
                #expect(!page.html.contains("<script>alert(1)"))
                let replaced = try #require(attacker.cookies["so_csrf"])
                #expect(replaced != planted && replaced.count == 43)
                #expect(page.html.contains(#"name="csrf_token" value="\#(replaced)""#))
                #expect(page.html.contains("Connect with Square"), "the rest of the page is rendered around the token")
            }
        }
    }

    @Test func everyPageCarriesSecurityHeaders() async throws {
        try await H.run { h in
            try await h.withService(["security.frameAncestors": "https://partner.example"]) { browser in
                for path in ["/", "/oauth/callback?state=nope", "/connection", "/nowhere"] {
                    let page = try await browser.get(path)
                    let csp = try #require(page.headers[.contentSecurityPolicy])
                    #expect(csp.contains("default-src 'self'"))
                    #expect(csp.contains("frame-ancestors https://partner.example"))
                    #expect(csp.contains("form-action 'self' http://127.0.0.1:\(h.emulatorPort)"))
                    #expect(page.headers[.init("X-Content-Type-Options")!] == "nosniff")
                    #expect(page.headers[.init("Referrer-Policy")!] == "no-referrer")
                    #expect(page.headers[.cacheControl] == "no-store")
                }
                let css = try await browser.get("/assets/style.css")
                #expect(css.status == .ok)
                #expect(css.headers[.contentType]?.hasPrefix("text/css") == true)
                #expect(try await browser.get("/assets/favicon.svg").status == .ok)
                #expect(try await browser.get("/assets/logo.svg").status == .ok)
            }
        }
    }

    @Test func startSendsAnS256ChallengeAndStoresOnlyTheStateHash() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let start = try await browser.pressConnect()
                #expect(start.status == .seeOther)
                #expect(start.headers[.cacheControl] == "no-store")
                #expect(start.headers[.init("Referrer-Policy")!] == "no-referrer")
                let locationText = try #require(start.headers[.location])
                let location = try #require(URLComponents(string: locationText))
                #expect(location.path == "/oauth2/authorize")
                let query = Dictionary(uniqueKeysWithValues: (location.queryItems ?? []).map { ($0.name, $0.value ?? "") })
                #expect(query["client_id"] == H.clientId)
                #expect(query["code_challenge_method"] == "S256")
                #expect(query["code_challenge"]?.count == 43)
                #expect(query["redirect_uri"] == "http://127.0.0.1:8080/oauth/callback")
                let state = try #require(query["state"])
                #expect(state.count == 43, "256 bits of state")
                #expect(browser.cookies["so_bind"] != nil)

                let stored = try #require(try await h.database().authorization(stateHash: sha256Hex(state)))
                #expect(stored.sealedCodeVerifier.hasPrefix("sb1.t1."))
                #expect(stored.consumedAt == nil)
                #expect(abs(stored.expiresAt.timeIntervalSince(stored.createdAt) - 600) < 1)
                #expect(!stored.stateHash.contains(state))
            }
        }
    }

    @Test func merchantConnectsSeesTheResultAndDisconnects() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let callback = try await h.connect(browser)
                #expect(callback.status == .seeOther)
                #expect(callback.headers[.location] == "/connection?connected=1")
                #expect(browser.cookies["so_session"] != nil)

                let result = try await browser.get("/connection?connected=1")
                #expect(result.status == .ok)
                #expect(result.html.contains(#"id="connected-banner""#))
                #expect(result.html.contains(#"<code id="merchant-id">MLSANDBOXCAFE</code>"#))
                #expect(result.html.contains(#"<span id="status" class="status ok">Connected</span>"#))
                #expect(result.html.contains("Create and change orders"))
                #expect(result.html.contains(#"id="expires-at""#))
                #expect(result.html.contains(#"<button id="disconnect""#))

                let connection = try #require(
                    try await h.database().connection(environment: "custom", merchantId: "MLSANDBOXCAFE")
                )
                #expect(connection.status == .active)
                #expect(connection.flow == .pkce)
                #expect(connection.scopes == "MERCHANT_PROFILE_READ PAYMENTS_READ ORDERS_WRITE")
                #expect(connection.lastCheckedAt != nil, "granted scopes were confirmed with RetrieveTokenStatus after the answer")
                #expect(connection.refreshTokenExpiresAt != nil)
                let sealedAccess = try #require(connection.sealedAccessToken)
                #expect(sealedAccess.hasPrefix("sb1.t1.") && !sealedAccess.contains("EAAA"))
                #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))

                let csrf = try await browser.csrfToken(on: "/connection")
                let disconnect = try await browser.post("/connection/disconnect", form: ["csrf_token": csrf])
                #expect(disconnect.status == .seeOther)
                #expect(!h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"), "RevokeToken reached Square")
                let after = try await browser.get("/connection")
                #expect(after.html.contains(#"<span id="status" class="status off">Disconnected</span>"#))
                #expect(!after.html.contains(#"id="disconnect""#))
                #expect(after.html.contains(#"id="connect-again""#))

                let revoked = try #require(
                    try await h.database().connection(environment: "custom", merchantId: "MLSANDBOXCAFE")
                )
                #expect(revoked.status == .revoked)
                #expect(revoked.revokedBy == "merchant")
                #expect(revoked.sealedAccessToken == nil && revoked.sealedRefreshToken == nil)
                let actions = try await h.database().auditEvents().map(\.action.rawValue)
                #expect(actions == ["authorization.started", "connection.connected", "connection.revoked"])
            }
        }
    }

    @Test func codeFlowExchangesWithTheClientSecret() async throws {
        try await H.run { h in
            try await h.withService(["square.flow": "code"]) { browser in
                #expect(try await h.connect(browser).status == .seeOther)
                let connection = try #require(
                    try await h.database().connection(environment: "custom", merchantId: "MLSANDBOXCAFE")
                )
                #expect(connection.flow == .code)
                #expect(connection.refreshTokenExpiresAt == nil, "code-flow refresh tokens do not expire")
            }
        }
    }

    @Test func reconnectingUpdatesTheSameConnection() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                let first = try await h.stored("MLSANDBOXCAFE")
                let firstTokens = try await h.tokens("MLSANDBOXCAFE")
                let csrf = try await browser.csrfToken(on: "/connection")
                _ = try await browser.post("/connection/disconnect", form: ["csrf_token": csrf])
                h.clock.advance(by: 60)
                _ = try await h.connect(browser)

                let rows = try await h.database().allConnections()
                #expect(rows.count == 1, "one row per merchant")
                let again = try #require(rows.first)
                #expect(again.id == first.id)
                #expect(again.status == .active && again.revokedAt == nil && again.revokedBy == nil)
                #expect(again.connectedAt > first.connectedAt, "connectedAt is the new connection's")
                let tokens = try await h.tokens("MLSANDBOXCAFE")
                #expect(tokens.access != nil && tokens.access != firstTokens.access, "new access token")
                #expect(tokens.refresh != nil && tokens.refresh != firstTokens.refresh, "new refresh token")
                let access = try #require(tokens.access)
                #expect(await h.squareAccepts(accessToken: access))
            }
        }
    }

    @Test func theConnectionPageNamesTheNextRenewalAndTheTokensEnd() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                let page = try await browser.get("/connection")
                let connection = try await h.stored("MLSANDBOXCAFE")
                let settings = try h.configuration().tokenLife
                // Access tokens live 30 days; the refresher renews them after 7: the page says 7, and names the 30 for what it is.
                let renewal = ConnectionPageModel.format(settings.nextRenewal(of: connection))
                let end = ConnectionPageModel.format(try #require(connection.expiresAt))
                #expect(page.html.contains(#"<dt>Renews automatically by</dt><dd id="renews-by">\#(renewal)</dd>"#))
                #expect(page.html.contains(#"<dt>Current access valid until</dt><dd id="expires-at">\#(end)</dd>"#))
                let days = settings.nextRenewal(of: connection).timeIntervalSince(connection.connectedAt) / 86_400
                #expect(abs(days - 7) < 0.01, "the renewal is the refresh age, not the token's 30-day end")
            }
        }
    }

    @Test func livenessAndReadinessAnswerJSON() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let health = try await browser.get("/healthz")
                #expect(health.status == .ok)
                #expect(health.html == #"{"status":"ok"}"#)
                #expect(health.headers[.contentType] == "application/json")
                let ready = try await browser.get("/readyz")
                #expect(ready.status == .ok && ready.headers[.contentType] == "application/json")
                #expect(ready.html == #"{"status":"ok","checks":{"database":"ok","templates":"ok","encryptionKeys":"ok","shutdown":"no"}}"#)
            }
        }
    }

    @Test func httpsPublicURLGetsSecureHostCookies() async throws {
        try await H.run { h in
            try await h.withService(["public.baseUrl": "https://onboard.example.com"]) { browser in
                let page = try await browser.get("/")
                let cookie = try #require(page.headers[.setCookie])
                #expect(cookie.hasPrefix("__Host-so_csrf="))
                #expect(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
                let start = try await browser.pressConnect()
                let location = try #require(start.headers[.location])
                #expect(location.contains("redirect_uri=https%3A%2F%2Fonboard.example.com%2Foauth%2Fcallback"))
            }
        }
    }
}
