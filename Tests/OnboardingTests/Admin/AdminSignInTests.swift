import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import Onboarding

/// Signing in to the admin dashboard: the redirect and back, failures that look alike, the throttle, sign-out.
@Suite("Admin sign-in")
struct AdminSignInTests {
    typealias H = ServiceHarness

    /// A sign-in form post as it comes through a reverse proxy that names the client in `X-Forwarded-For`.
    static func signIn(_ browser: Browser, _ name: String, password: String, from address: String) async throws -> TestResponse {
        let csrf = try await browser.csrfToken(on: "/admin/login")
        let body = ["csrf_token": csrf, "name": name, "password": password]
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await browser.client.execute(
            uri: "/admin/login",
            method: .post,
            headers: [
                .contentType: "application/x-www-form-urlencoded",
                .cookie: browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "),
                .init("X-Forwarded-For")!: "10.9.8.7, \(address)",
            ],
            body: ByteBuffer(string: body)
        )
    }

    static let behindProxy = ["http.clientAddressHeader": "X-Forwarded-For"]

    @Test func anAdminPageWithoutASessionSendsToSignInAndBackAfter() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let first = try await browser.get("/admin/test/viewer?tab=recent")
                #expect(first.status == .seeOther)
                let location = try #require(first.headers[.location])
                #expect(location == "/admin/login?next=/admin/test/viewer%3Ftab%3Drecent")
                let signedIn = try await browser.signIn("vera", page: location)
                #expect(signedIn.status == .seeOther)
                #expect(signedIn.headers[.location] == "/admin/test/viewer?tab=recent")
                let page = try await browser.get("/admin/test/viewer?tab=recent")
                #expect(page.status == .ok && page.html == "page for viewer, seen by vera")
                let signInPage = try await browser.get("/admin/login?next=%2Fadmin%2Ftest%2Fviewer")
                #expect(signInPage.status == .seeOther && signInPage.headers[.location] == "/admin/test/viewer", "signed in: straight on")
            }
        }
    }

    @Test func theHomePageSaysWhoIsSignedInAndSignOutEndsTheSession() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withService { browser in
                let anonymous = try await browser.get("/admin")
                #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/admin/login")
                let signedIn = try await browser.signIn("olga")
                #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/admin")
                let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("so_admin=") })
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"))
                #expect(!cookie.contains("Secure"), "plain http on loopback")
                let session = try #require(browser.cookies["so_admin"])

                let home = try await browser.get("/admin")
                #expect(home.status == .ok)
                #expect(home.html.contains(#"<strong id="admin-name">olga</strong>"#) && home.html.contains(">owner<"))
                #expect(home.html.contains("manage admins") && home.html.contains(#"id="sign-out""#))

                let out = try await browser.post("/admin/logout", form: ["csrf_token": try await browser.adminCSRFToken()])
                #expect(out.status == .seeOther && out.headers[.location] == "/admin/login?signed_out=1")
                #expect(browser.cookies["so_admin"] == nil)
                #expect(try await browser.get("/admin/login?signed_out=1").html.contains("You are signed out"))
                #expect(try await browser.get("/admin").status == .seeOther)
                browser.setCookie("so_admin", session)
                #expect(try await browser.get("/admin").status == .seeOther, "the session ended on the server, not only in the browser")
            }
            let audit = try await h.database().auditEvents()
            #expect(audit.map(\.action) == [.adminAdded, .adminSignedIn, .adminSignedOut])
            #expect(audit.dropFirst().allSatisfy { $0.actor == .admin("olga") })
            #expect(try await h.database().admin(named: "olga")?.lastSignInAt != nil)
        }
    }

    @Test func aFormWithAFieldOfTheWrongShapeIsA400AndTriesNothing() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let csrf = try await browser.csrfToken(on: "/admin/login")
                let answer = try await browser.client.execute(
                    uri: "/admin/login",
                    method: .post,
                    headers: [
                        .contentType: "application/x-www-form-urlencoded",
                        .cookie: browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "),
                    ],
                    body: ByteBuffer(string: "csrf_token=\(csrf)&name[]=vera&password=\(H.password)")
                )
                #expect(answer.status == .badRequest)
                #expect(String(buffer: answer.body).contains("Error 400"), "the error page, not a sign-in page")
                #expect(browser.cookies["so_admin"] == nil)
            }
            let tried = try await h.database().auditEvents().filter { [.adminSignInFailed, .adminSignedIn].contains($0.action) }
            #expect(tried.isEmpty, "an unreadable form is not a sign-in attempt")
        }
    }

    @Test func aWrongPasswordAndAnUnknownNameGetTheSameAnswer() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let wrong = try await browser.signIn("vera", password: "not the password at all")
                let unknown = try await browser.signIn("nobody", password: "not the password at all")
                #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
                #expect(wrong.html.contains("That name and password do not match an admin account."))
                #expect(
                    wrong.html.replacingOccurrences(of: "vera", with: "NAME") == unknown.html.replacingOccurrences(of: "nobody", with: "NAME"),
                    "the same page but for the name typed"
                )
                #expect(browser.cookies["so_admin"] == nil)
                #expect(try await browser.get("/admin").status == .seeOther)
            }
            let failures = try await h.database().auditEvents().filter { $0.action == .adminSignInFailed }
            #expect(failures.count == 2)
            #expect(failures.first?.actor == .admin("vera") && failures.first?.detail.contains("wrong password") == true)
            #expect(failures.last?.actor == .system && failures.last?.detail.contains("unknown name") == true)
            #expect(!failures.contains { $0.detail.contains("nobody") }, "a typed name that is no admin is never stored")
        }
    }

    @Test func theNameFieldHasTheFocusUntilANameWasTyped() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let first = try await browser.get("/admin/login")
                #expect(first.html.contains(#"required autofocus>"#) && first.html.firstRange(of: "autofocus") != nil)
                #expect(first.html.contains(#"maxlength="64" required autofocus>"#), "the name field")
                let failed = try await Self.signIn(browser, "vera", password: "not it", from: "198.51.100.9")
                #expect(failed.html.contains(#"maxlength="1024" required autofocus>"#), "the password field")
                #expect(!failed.html.contains(#"maxlength="64" required autofocus>"#))
            }
        }
    }

    @Test func failedSignInsAreThrottledPerAccountUntilTheWindowPasses() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages(Self.behindProxy) { browser, _ in
                let started = ContinuousClock.now
                for attempt in 1...5 {
                    let failed = try await Self.signIn(browser, "vera", password: "guess number \(attempt)", from: "198.51.100.\(attempt)")
                    #expect(failed.status == .unauthorized)
                }
                // The right password, from an address that never failed: the account is resting.
                let refused = try await Self.signIn(browser, "vera", password: H.password, from: "198.51.100.77")
                #expect(refused.status == .tooManyRequests)
                let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
                // The window runs from the first failure: on a loaded machine the five scrypt checks take a while.
                let elapsed = Int((ContinuousClock.now - started).components.seconds) + 1
                #expect(((900 - elapsed)...900).contains(retryAfter), "\(retryAfter) after \(elapsed) s")
                #expect(refused.html.contains("Wait 15 minutes before trying again."))
                #expect(refused.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("so_admin=") })

                h.clock.advance(by: TimeInterval(retryAfter - 5))
                #expect(try await Self.signIn(browser, "vera", password: H.password, from: "198.51.100.77").status == .tooManyRequests)
                h.clock.advance(by: 6)
                #expect(try await Self.signIn(browser, "vera", password: H.password, from: "198.51.100.77").status == .seeOther)
            }
            let failures = try await h.database().auditEvents().filter { $0.action == .adminSignInFailed }
            #expect(failures.count == 5, "refused tries are not checked, so not audited as failures")
        }
    }

    @Test func oneAdminsTyposNeverLockOutAnotherAtTheSameAddress() async throws {
        try await H.run { h in
            try await h.addAdmin("carol", role: .viewer)
            try await h.addAdmin("otto", role: .operator)
            try await h.withAdminPages(Self.behindProxy) { browser, _ in
                for attempt in 1...5 {
                    let failed = try await Self.signIn(browser, "carol", password: "typo \(attempt)", from: "203.0.113.9")
                    #expect(failed.status == .unauthorized)
                }
                #expect(try await Self.signIn(browser, "carol", password: H.password, from: "203.0.113.9").status == .tooManyRequests)
                let otto = try await Self.signIn(browser, "otto", password: H.password, from: "203.0.113.9")
                #expect(otto.status == .seeOther, "the office's address is not locked by carol's name")
            }
            let lockouts = try await h.database().auditEvents().filter { $0.action == .adminLockedOut }
            #expect(lockouts.count == 1 && lockouts.first?.actor == .admin("carol"))
            #expect(lockouts.first?.detail.hasPrefix("admin=carol failures=5 window=15m until=") == true)
        }
    }

    @Test func anAddressHasAFarHigherBoundOfItsOwnWhateverTheName() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages(Self.behindProxy.merging(["admin.signInMaxFailuresPerAddress": "8"]) { $1 }) { browser, _ in
                for attempt in 1...8 {
                    let failed = try await Self.signIn(browser, "nobody\(attempt)", password: "guess", from: "203.0.113.9")
                    #expect(failed.status == .unauthorized)
                }
                let unknown = try await Self.signIn(browser, "nobody9", password: "guess", from: "203.0.113.9")
                let known = try await Self.signIn(browser, "vera", password: H.password, from: "203.0.113.9")
                #expect(unknown.status == .tooManyRequests && known.status == .tooManyRequests)
                #expect(unknown.headers[.retryAfter] != nil && known.headers[.retryAfter] != nil)
                #expect(
                    unknown.html.replacingOccurrences(of: "nobody9", with: "NAME") == known.html.replacingOccurrences(of: "vera", with: "NAME"),
                    "a throttled unknown name looks like a throttled account"
                )
                #expect(try await Self.signIn(browser, "vera", password: H.password, from: "203.0.113.10").status == .seeOther)
            }
            let lockouts = try await h.database().auditEvents().filter { $0.action == .adminLockedOut }
            #expect(lockouts.map(\.detail.description).allSatisfy { $0.hasPrefix("address=203.0.113.9 failures=8") } && lockouts.count == 1)
            #expect(!(try await h.database().auditEvents().contains { $0.detail.contains("nobody") }), "unknown names are never written")
        }
    }

    @Test func aLockoutOutlivesARestartAndAnOperatorCanEndItEarly() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages(Self.behindProxy) { browser, _ in
                for attempt in 1...5 {
                    _ = try await Self.signIn(browser, "vera", password: "typo \(attempt)", from: "198.51.100.\(attempt)")
                }
            }
            try await h.withAdminPages(Self.behindProxy) { browser, _ in
                let refused = try await Self.signIn(browser, "vera", password: H.password, from: "198.51.100.80")
                #expect(refused.status == .tooManyRequests, "the count lives in the database, not in the process")
                let said = try await AdminOperations.unlock(dataDirectory: h.dataDirectory, name: "vera", logger: Logger(label: "test"))
                #expect(said == "unlocked 'vera': forgot 5 failed sign-in(s); they may sign in now")
                #expect(try await Self.signIn(browser, "vera", password: H.password, from: "198.51.100.80").status == .seeOther)
            }
            let unlocked = try await h.database().auditEvents().filter { $0.action == .adminUnlocked }
            #expect(unlocked.count == 1 && unlocked.first?.actor == .cli && unlocked.first?.detail == "admin=vera")
            await #expect(throws: AdminError.self) {
                try await AdminOperations.unlock(dataDirectory: h.dataDirectory, name: "nobody", logger: Logger(label: "test"))
            }
        }
    }

    @Test func aGoodSignInClearsTheAccountsFailures() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages(Self.behindProxy) { browser, _ in
                for attempt in 1...4 {
                    _ = try await Self.signIn(browser, "vera", password: "typo \(attempt)", from: "198.51.100.\(attempt)")
                }
                #expect(try await Self.signIn(browser, "vera", password: H.password, from: "198.51.100.50").status == .seeOther)
                for attempt in 1...4 {
                    let failed = try await Self.signIn(browser, "vera", password: "typo \(attempt)", from: "198.51.100.\(10 + attempt)")
                    #expect(failed.status == .unauthorized)
                }
            }
        }
    }

    @Test func aSessionEndsAfterItsIdleTimeAndAfterItsLifetime() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages(["admin.sessionLifetimeHours": "1"]) { browser, _ in
                let idle = Browser(client: browser.client)
                #expect(try await browser.signIn("vera").status == .seeOther)
                #expect(try await idle.signIn("vera").status == .seeOther)
                for _ in 1...2 {
                    h.clock.advance(by: 29 * 60)
                    #expect(try await browser.get("/admin").status == .ok, "a request within 30 minutes keeps it alive")
                }
                #expect(try await idle.get("/admin").status == .seeOther, "58 minutes without a request: idle")
                h.clock.advance(by: 3 * 60)
                let ended = try await browser.get("/admin/test/viewer")
                #expect(ended.status == .seeOther, "61 minutes after sign-in: past the lifetime, however active")
                #expect(ended.headers[.location] == "/admin/login?next=/admin/test/viewer")
            }
        }
    }

    static let offSite = [
        "//evil.example/admin", "https://evil.example/admin", "/\\evil.example", "/admin/../../evil", "/admin/%2e%2e/%2e%2e/evil",
        "/adminevil", "/admin/login", "javascript:alert(1)", "/admin//evil.example", "/admin/%2f%2fevil.example", "/admin/\r\nX-Evil: 1",
        "",
    ]

    @Test(arguments: offSite)
    func aNextOutsideTheAdminPagesIsIgnored(next: String) async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let encoded = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let page = try await browser.get("/admin/login?next=\(encoded)")
                #expect(page.html.contains(#"name="next" value="/admin""#))
                let csrf = try #require(page.html.firstMatch(of: /name="csrf_token" value="([^"]+)"/)?.output.1)
                let signedIn = try await browser.post(
                    "/admin/login",
                    form: ["csrf_token": String(csrf), "next": next, "name": "vera", "password": H.password]
                )
                #expect(signedIn.status == .seeOther)
                #expect(signedIn.headers[.location] == "/admin")
            }
        }
    }

    @Test func aPasswordResetSignsTheAdminOutEverywhere() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .operator)
            try await h.withAdminPages { browser, _ in
                let laptop = Browser(client: browser.client)
                #expect(try await browser.signIn("vera").status == .seeOther)
                #expect(try await laptop.signIn("vera").status == .seeOther)
                var accounts = AdminAccounts(store: try h.database(), clock: h.clock.appClock, logger: Logger(label: "test"))
                accounts.hashParameters = .testing
                #expect(try await accounts.resetPassword(name: "vera", password: "a brand new passphrase", actor: .cli) == 2)
                #expect(try await browser.get("/admin").status == .seeOther)
                #expect(try await laptop.get("/admin").status == .seeOther)
                #expect(try await browser.signIn("vera").status == .unauthorized, "the old password is gone")
                #expect(try await browser.signIn("vera", password: "a brand new passphrase").status == .seeOther)
            }
            #expect(try await h.database().auditEvents().contains { $0.action == .adminPasswordChanged && $0.actor == .cli })
        }
    }

    @Test func signingInAgainReplacesTheBrowsersSession() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                // Two tabs opened the sign-in form; vera signs in in one, then olga in the other.
                let csrf = try await browser.csrfToken(on: "/admin/login")
                let form = ["csrf_token": csrf, "next": "/admin", "password": H.password]
                #expect(try await browser.post("/admin/login", form: form.merging(["name": "vera"]) { $1 }).status == .seeOther)
                let first = try #require(browser.cookies["so_admin"])
                #expect(try await browser.post("/admin/login", form: form.merging(["name": "olga"]) { $1 }).status == .seeOther)
                #expect(try await browser.get("/admin/test/owner").html == "page for owner, seen by olga")
                browser.setCookie("so_admin", first)
                #expect(try await browser.get("/admin").status == .seeOther, "the replaced session no longer works")
            }
        }
    }

    @Test func passwordsReachNoPageAndNoLogLine() async throws {
        try await H.run { h in
            let wrong = "wrong-PASSWORD-typed-here"
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                var pages: [String] = []
                pages.append(try await browser.signIn("vera", password: wrong).html)
                pages.append(try await browser.signIn(wrong, password: H.password).html)
                pages.append(try await browser.signIn("vera").html)
                pages.append(try await browser.get("/admin").html)
                pages.append(try await browser.post("/admin/logout", form: ["csrf_token": try await browser.adminCSRFToken()]).html)
                for page in pages { #expect(!page.contains(H.password)) }
                #expect(!pages[0].contains(wrong))
            }
            #expect(!h.logs.all.isEmpty)
            for line in h.logs.all { #expect(!line.contains(H.password) && !line.contains(wrong), "\(line)") }
            for event in try await h.database().auditEvents() { #expect(!event.detail.contains(wrong) && !event.actor.description.contains(wrong)) }
            let raw = try await h.rawDatabase().read { db in try String.fetchAll(db, sql: "SELECT passwordHash FROM adminUser") }
            #expect(raw.count == 1 && raw[0].hasPrefix("$scrypt$") && !raw[0].contains(H.password))
        }
    }

    @Test func outsideLoopbackTheSessionCookieIsSecureWithTheHostPrefix() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages(["public.baseUrl": "https://onboard.example.com"]) { browser, _ in
                let signedIn = try await browser.signIn("vera")
                let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("__Host-so_admin=") })
                #expect(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"))
                #expect(try await browser.get("/admin").status == .ok)
            }
        }
    }
}
