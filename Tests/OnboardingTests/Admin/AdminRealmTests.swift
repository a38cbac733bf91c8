import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import Onboarding

/// The admin realm's policy: a session, the session's CSRF token on posts, then the role each page asks for.
@Suite("Admin realm: roles and CSRF")
struct AdminRealmTests {
    typealias H = ServiceHarness

    /// Signs `name` in on a fresh browser of `browser`'s client.
    static func signedIn(_ name: String, on browser: Browser) async throws -> Browser {
        let other = Browser(client: browser.client)
        let answer = try await other.signIn(name)
        #expect(answer.status == .seeOther, "\(name) signs in")
        return other
    }

    @Test func aViewerPressingAnOperatorsButtonGetsA403PageAndNothingIsDone() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, pages in
                let vera = try await Self.signedIn("vera", on: browser)
                let csrf = try await vera.adminCSRFToken()
                let pressed = try await vera.post("/admin/test/operator/act", form: ["csrf_token": csrf])
                #expect(pressed.status == .forbidden)
                #expect(pressed.html.contains("Your role does not allow this"))
                #expect(pressed.html.contains("This needs the operator role. Nothing was changed."))
                #expect(pressed.html.contains(#"href="/admin""#))
                #expect(pages.performed.isEmpty)
                #expect(try await vera.get("/admin/test/operator").status == .forbidden)
                #expect(try await vera.get("/admin/test/owner").status == .forbidden)
                #expect(try await vera.get("/admin/test/viewer").status == .ok)
                #expect(try await vera.get("/admin").status == .ok, "still signed in")
            }
        }
    }

    @Test func anOperatorActsButDoesNotReachAnOwnersPages() async throws {
        try await H.run { h in
            try await h.addAdmin("otto", role: .operator)
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, pages in
                let otto = try await Self.signedIn("otto", on: browser)
                let acted = try await otto.post("/admin/test/operator/act", form: ["csrf_token": try await otto.adminCSRFToken()])
                #expect(acted.status == .seeOther)
                #expect(try await otto.post("/admin/test/owner/act", form: ["csrf_token": try await otto.adminCSRFToken()]).status == .forbidden)
                #expect(try await otto.get("/admin/test/viewer").status == .ok)

                let olga = try await Self.signedIn("olga", on: browser)
                for role in AdminRole.allCases {
                    #expect(try await olga.get("/admin/test/\(role.rawValue)").status == .ok, "an owner holds every role")
                }
                #expect(try await olga.post("/admin/test/owner/act", form: ["csrf_token": try await olga.adminCSRFToken()]).status == .seeOther)
                #expect(pages.performed == ["operator action by otto", "owner action by olga"])
            }
        }
    }

    @Test(arguments: [["csrf_token": "forged-token-forged-token-forged-token-abcd"], [:]])
    func aForgedOrMissingTokenOnAnOperatorActionDoesNothing(form: [String: String]) async throws {
        try await H.run { h in
            try await h.addAdmin("otto", role: .operator)
            try await h.withAdminPages { browser, pages in
                let otto = try await Self.signedIn("otto", on: browser)
                let pressed = try await otto.post("/admin/test/operator/act", form: form)
                #expect(pressed.status == .forbidden)
                #expect(pressed.html.contains("This form has expired"))
                #expect(pages.performed.isEmpty)
            }
        }
    }

    @Test(arguments: [["csrf_token": "forged-token-forged-token-forged-token-abcd"], [:]])
    func aForgedOrMissingTokenSignsNobodyOut(form: [String: String]) async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.signedIn("vera", on: browser)
                let out = try await vera.post("/admin/logout", form: form)
                #expect(out.status == .forbidden)
                #expect(try await vera.get("/admin").status == .ok, "still signed in")
            }
            #expect(!(try await h.database().auditEvents().contains { $0.action == .adminSignedOut }))
        }
    }

    @Test func anotherSitesPostWithAValidTokenIsRefused() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.signedIn("vera", on: browser)
                let csrf = try await vera.adminCSRFToken()
                let out = try await RouterPolicyTests.post("/admin/logout", csrf: csrf, from: vera, headers: [.origin: "https://evil.example"])
                #expect(out.status == .forbidden)
                #expect(try await vera.get("/admin").status == .ok)
            }
        }
    }

    @Test func aSignInPostWithoutTheFormsTokenIsRefused() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                _ = try await browser.get("/admin/login")
                let forged = try await browser.post(
                    "/admin/login",
                    form: ["csrf_token": "forged-token-forged-token-forged-token-abcd", "name": "vera", "password": H.password]
                )
                #expect(forged.status == .forbidden)
                #expect(browser.cookies["so_admin"] == nil)
            }
            #expect(!(try await h.database().auditEvents().contains { $0.action == .adminSignedIn }))
        }
    }

    @Test func aPostWithoutASessionGoesToSignInWithoutComingBack() async throws {
        try await H.run { h in
            try await h.withAdminPages { browser, pages in
                let pressed = try await browser.post("/admin/test/operator/act", form: ["csrf_token": "anything"])
                #expect(pressed.status == .seeOther && pressed.headers[.location] == "/admin/login")
                let out = try await browser.post("/admin/logout", form: [:])
                #expect(out.status == .seeOther && out.headers[.location] == "/admin/login")
                #expect(pages.performed.isEmpty)
            }
        }
    }

    @Test func roleChangesAndRemovalsApplyToTheNextRequest() async throws {
        try await H.run { h in
            try await h.addAdmin("vera", role: .viewer)
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, pages in
                let vera = try await Self.signedIn("vera", on: browser)
                #expect(try await vera.get("/admin/test/operator").status == .forbidden)
                let accounts = AdminAccounts(store: try h.database(), clock: h.clock.appClock, logger: Logger(label: "test"))
                try await accounts.setRole(name: "vera", role: .operator, actor: .admin("olga"))
                #expect(try await vera.get("/admin/test/operator").status == .ok, "no new sign-in needed")
                try await accounts.remove(name: "vera", actor: .admin("olga"))
                #expect(try await vera.get("/admin/test/viewer").status == .seeOther, "a removed admin's session ends")
                #expect(pages.performed.isEmpty)
            }
            let audit = try await h.database().auditEvents().filter { $0.actor == .admin("olga") }
            #expect(audit.map(\.action) == [.adminRoleChanged, .adminRemoved])
        }
    }
}
