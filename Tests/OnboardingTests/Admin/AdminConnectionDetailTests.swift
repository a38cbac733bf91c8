import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OnboardCrypto
import SquareOAuth
import Testing

@testable import Onboarding

/// One connection in the admin dashboard: its facts and history for every role, and the operator's actions.
@Suite("Admin: connection detail and actions")
struct AdminConnectionDetailTests {
    typealias H = ServiceHarness
    static let page = "/admin/connections/MLSANDBOXCAFE"

    /// Connects MLSANDBOXCAFE, adds `admins`, and hands `body` a browser signed in as the first of them.
    static func signedIn(
        _ h: H,
        as admins: [(String, AdminRole)],
        overrides: [String: String] = [:],
        _ body: @Sendable (Browser, Browser) async throws -> Void
    ) async throws {
        try await h.connectMerchants(["MLSANDBOXCAFE"])
        for (name, role) in admins { try await h.addAdmin(name, role: role) }
        try await h.withAdminPages(overrides) { browser, _ in
            let admin = try await AdminRealmTests.signedIn(admins[0].0, on: browser)
            try await body(admin, browser)
        }
    }

    /// Presses a button on the detail page: the form's post, and the page the redirect leads to.
    static func press(_ action: String, on admin: Browser) async throws -> (TestResponse, TestResponse) {
        let csrf = try await admin.csrfToken(on: page)
        let pressed = try await admin.post("\(page)/\(action)", form: ["csrf_token": csrf])
        #expect(pressed.status == .seeOther)
        let location = try #require(pressed.headers[.location])
        #expect(location.hasPrefix(page + "?outcome="))
        return (pressed, try await admin.get(location))
    }

    static func flash(_ page: TestResponse) -> String? {
        page.html.firstMatch(of: /id="flash" role="status">([^<]*)</)?.output.1.replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&#x27;", with: "'")
    }

    @Test func theConnectionAndItsDisconnectQuestionAreDashboardPagesWordedForTheOperator() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("otto", .operator)]) { otto, _ in
                let html = try await otto.get(Self.page).html
                #expect(html.contains(#"<nav class="admin-nav""#) && html.contains(#"<a href="/admin/connections" aria-current="page">"#))
                #expect(html.contains(#"<div class="table-scroll" tabindex="0" role="region" aria-label="History of this connection">"#))
                #expect(html.contains(#"<th scope="col">When</th>"#) && !html.contains("<th>"))
                #expect(html.contains("See the merchant&#39;s business name, locations and contact details"))
                #expect(!html.contains("See your"), "scopes are about the merchant, not to them")
                #expect(html.contains(#"<a class="button danger" id="disconnect" href="\#(Self.page)/disconnect">Disconnect…</a>"#))
                let question = try await otto.get(Self.page + "/disconnect").html
                #expect(
                    question.contains(#"<nav class="admin-nav""#)
                        && question.contains(#"<a class="button" id="cancel" href="\#(Self.page)">Cancel</a>"#)
                )
                #expect(question.contains(#"<button id="confirm-disconnect" type="submit" class="danger">Disconnect</button>"#))
            }
        }
    }

    @Test func everyScopeIsWordedForTheOperatorWithoutAddressingTheMerchant() {
        for scope in SquareScope.catalogue.keys {
            let words = SquareScope.describeForOperator(scope)
            #expect(!words.lowercased().contains("your") && !words.hasSuffix(" you") && !words.contains(" you "), "\(scope): \(words)")
        }
        #expect(SquareScope.describeForOperator("PAYMENTS_WRITE") == "Take payments and issue refunds for the merchant")
        #expect(SquareScope.describeForOperator("NOT_A_SCOPE") == "NOT_A_SCOPE")
    }

    @Test func aViewerSeesEveryFieldTheFingerprintAndTheHistoryButNoButtons() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("vera", .viewer)]) { vera, _ in
                let shown = try await vera.get(Self.page)
                #expect(shown.status == .ok)
                let html = shown.html
                let connection = try await h.stored("MLSANDBOXCAFE")
                let tokens = try await h.tokens("MLSANDBOXCAFE")
                let access = try #require(tokens.access)
                #expect(html.contains(#"<span id="status" class="status ok">active</span>"#))
                #expect(html.contains(#"<dd id="flow">pkce</dd>"#))
                #expect(html.contains(#"<dd id="environment">custom</dd>"#))
                #expect(html.contains(#"<dd id="refresh-failures">0</dd>"#))
                #expect(html.contains(ConnectionPageModel.format(try #require(connection.expiresAt))))
                for scope in connection.scopes.split(separator: " ") { #expect(html.contains("<code>\(scope)</code>")) }
                #expect(html.contains("<code>\(String(sha256Hex(access).prefix(12)))</code>"), "the fingerprint")
                let refresh = try #require(tokens.refresh)
                #expect(!html.contains(access) && !html.contains(refresh), "never a token")
                #expect(!html.contains(try #require(connection.sealedAccessToken)))
                #expect(html.contains("<code>connection.connected</code>") && html.contains("merchant"))
                #expect(!html.contains(#"id="check-status""#) && !html.contains(#"id="refresh-now""#) && !html.contains(#"id="disconnect""#))
            }
        }
    }

    @Test func anUnknownMerchantIsTheAdmin404Page() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("otto", .operator)]) { otto, _ in
                let csrf = try await otto.adminCSRFToken()
                for answer in [
                    try await otto.get("/admin/connections/MLNOBODY"),
                    try await otto.get("/admin/connections/MLNOBODY/disconnect"),
                    try await otto.post("/admin/connections/MLNOBODY/check", form: ["csrf_token": csrf]),
                    try await otto.post("/admin/connections/MLNOBODY/disconnect", form: ["csrf_token": csrf]),
                ] {
                    #expect(answer.status == .notFound)
                    #expect(answer.html.contains("No such connection") && answer.html.contains(#"id="back-to-admin""#))
                }
                #expect(h.emulator.callCount(path: "/oauth2/revoke") == 0)
            }
        }
    }

    @Test func aViewerPressingAnOperatorButtonGets403AndNothingHappens() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("vera", .viewer)]) { vera, _ in
                let before = try await h.stored("MLSANDBOXCAFE")
                let statusCalls = h.emulator.callCount(path: "/oauth2/token/status")
                let csrf = try await vera.adminCSRFToken()
                for action in ["check", "refresh", "disconnect"] {
                    let pressed = try await vera.post("\(Self.page)/\(action)", form: ["csrf_token": csrf])
                    #expect(pressed.status == .forbidden)
                    #expect(pressed.html.contains("This needs the operator role. Nothing was changed."))
                }
                #expect(try await vera.get("\(Self.page)/disconnect").status == .forbidden)
                #expect(try await h.stored("MLSANDBOXCAFE") == before)
                #expect(h.emulator.callCount(path: "/oauth2/revoke") == 0)
                #expect(h.emulator.callCount(path: "/oauth2/token/status") == statusCalls)
            }
        }
    }

    @Test func checkStatusSaysWhatSquareSaidAndIsAuditedWithTheAdminsName() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("otto", .operator)]) { otto, _ in
                #expect(try await otto.get(Self.page).html.contains(#"id="check-status""#))
                let statusCalls = h.emulator.callCount(path: "/oauth2/token/status")
                let (pressed, shown) = try await Self.press("check", on: otto)
                #expect(pressed.headers[.location] == Self.page + "?outcome=check-valid")
                let expiresAt = try #require(try await h.stored("MLSANDBOXCAFE").expiresAt)
                #expect(Self.flash(shown) == "Square says the token is valid until \(ConnectionPageModel.format(expiresAt)).")
                #expect(h.emulator.callCount(path: "/oauth2/token/status") == statusCalls + 1)
                #expect(try await h.stored("MLSANDBOXCAFE").lastCheckedAt != nil)
                let audit = try #require(try await h.database().auditEvents().last)
                #expect(audit.action == .tokenStatusChecked && audit.actor == .admin("otto") && audit.merchantId == "MLSANDBOXCAFE")
                let checked = try #require(shown.html.range(of: "<code>token.status_checked</code>"))
                let connected = try #require(shown.html.range(of: "<code>connection.connected</code>"))
                #expect(checked.lowerBound < connected.lowerBound, "newest first")
                #expect(shown.html.contains("<td>admin:otto</td>"))
            }
        }
    }

    @Test func refreshNowRenewsTheTokensAndSaysUntilWhen() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("otto", .operator)]) { otto, _ in
                let before = try await h.tokens("MLSANDBOXCAFE")
                let (pressed, shown) = try await Self.press("refresh", on: otto)
                #expect(pressed.headers[.location] == Self.page + "?outcome=refreshed")
                let after = try await h.tokens("MLSANDBOXCAFE")
                #expect(after.access != before.access)
                let expiresAt = try #require(try await h.stored("MLSANDBOXCAFE").expiresAt)
                #expect(Self.flash(shown) == "Refreshed; valid until \(ConnectionPageModel.format(expiresAt)).")
                #expect(shown.html.contains("<code>\(String(sha256Hex(try #require(after.access)).prefix(12)))</code>"))
                let audit = try #require(try await h.database().auditEvents().last)
                #expect(audit.action == .tokenRefreshed && audit.actor == .admin("otto"))
            }
        }
    }

    @Test func disconnectAsksFirstThenRevokesOnceAndASecondPressIsAlreadyDisconnected() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("otto", .operator)]) { otto, _ in
                let confirm = try await otto.get("\(Self.page)/disconnect")
                #expect(confirm.status == .ok && confirm.html.contains(#"id="confirm-disconnect""#))
                #expect(h.emulator.callCount(path: "/oauth2/revoke") == 0, "the confirmation page does nothing")
                let csrf = try await otto.csrfToken(on: "\(Self.page)/disconnect")
                let first = try await otto.post("\(Self.page)/disconnect", form: ["csrf_token": csrf])
                #expect(first.headers[.location] == Self.page + "?outcome=disconnected")
                let second = try await otto.post("\(Self.page)/disconnect", form: ["csrf_token": csrf])
                #expect(second.headers[.location] == Self.page + "?outcome=already-disconnected")
                #expect(Self.flash(try await otto.get(try #require(first.headers[.location]))) == "Disconnected.")
                let shown = try await otto.get(try #require(second.headers[.location]))
                #expect(Self.flash(shown) == "Already disconnected; Square was not asked again.")
                #expect(shown.html.contains(#"class="status off">revoked"#) && shown.html.contains(#"<dd id="revoked-by">admin:otto</dd>"#))
                #expect(shown.html.contains("no token held") && !shown.html.contains(#"id="disconnect""#))
                #expect(h.emulator.callCount(path: "/oauth2/revoke") == 1)
                #expect(!h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
                let revoked = try await h.database().auditEvents().filter { $0.action == .connectionRevoked }
                #expect(revoked.count == 1 && revoked.first?.actor == .admin("otto"))
            }
        }
    }

    @Test func twoDisconnectsAtOnceCallSquareOnceAndTheSecondSaysAlreadyDisconnected() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("otto", .operator)]) { otto, _ in
                let csrf = try await otto.csrfToken(on: "\(Self.page)/disconnect")
                h.emulator.inject(.latency(milliseconds: 300, path: "/oauth2/revoke", count: nil))
                async let one = otto.post("\(Self.page)/disconnect", form: ["csrf_token": csrf])
                async let two = otto.post("\(Self.page)/disconnect", form: ["csrf_token": csrf])
                let answers = try await [one, two]
                #expect(answers.allSatisfy { $0.status == .seeOther })
                let outcomes = answers.compactMap { $0.headers[.location] }.sorted()
                #expect(outcomes == [Self.page + "?outcome=already-disconnected", Self.page + "?outcome=disconnected"])
                #expect(h.emulator.callCount(path: "/oauth2/revoke") == 1)
                #expect(try await h.database().auditEvents().filter { $0.action == .connectionRevoked }.count == 1)
                let third = try await otto.post("\(Self.page)/disconnect", form: ["csrf_token": csrf])
                #expect(third.headers[.location] == Self.page + "?outcome=already-disconnected")
                #expect(h.emulator.callCount(path: "/oauth2/revoke") == 1)
            }
        }
    }

    @Test(arguments: [("check", "/oauth2/token/status"), ("refresh", "/oauth2/token"), ("disconnect", "/oauth2/revoke")])
    func squareFailingChangesNothingAndSaysSo(action: String, path: String) async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("otto", .operator)]) { otto, _ in
                let before = (try await h.stored("MLSANDBOXCAFE"), try await h.tokens("MLSANDBOXCAFE"))
                h.emulator.inject(.status(503, path: path, count: nil))
                let (pressed, shown) = try await Self.press(action, on: otto)
                #expect(pressed.headers[.location] == Self.page + "?outcome=square-not-answering")
                #expect(Self.flash(shown) == "Square is not answering; nothing changed.")
                let after = (try await h.stored("MLSANDBOXCAFE"), try await h.tokens("MLSANDBOXCAFE"))
                #expect(after.0.status == .active && after.1.access == before.1.access && after.1.refresh == before.1.refresh)
                #expect(after.0.expiresAt == before.0.expiresAt && after.0.revokedAt == nil)
                #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
                let audit = try #require(try await h.database().auditEvents().last)
                #expect(audit.actor == .admin("otto"), "the attempt is in the audit log with the admin's name")
            }
        }
    }

    @Test func squareTooSlowChangesNothingAndSaysSo() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("otto", .operator)], overrides: ["square.timeoutSeconds": "1"]) { otto, _ in
                let before = try await h.tokens("MLSANDBOXCAFE")
                h.emulator.inject(.latency(milliseconds: 1500, path: "/oauth2/token/status", count: nil))
                let (_, shown) = try await Self.press("check", on: otto)
                #expect(Self.flash(shown) == "Square is not answering; nothing changed.")
                #expect(try await h.stored("MLSANDBOXCAFE").status == .active)
                #expect(try await h.tokens("MLSANDBOXCAFE") == before)
            }
        }
    }

    @Test func theFlashIsChosenByCodeAndNeverEchoesTheQuery() async throws {
        try await H.run { h in
            try await Self.signedIn(h, as: [("vera", .viewer)]) { vera, _ in
                let shown = try await vera.get(Self.page + "?outcome=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
                #expect(shown.status == .ok)
                #expect(Self.flash(shown) == nil && !shown.html.contains("<script>alert"))
                #expect(Self.flash(try await vera.get(Self.page + "?outcome=disconnected")) == "Disconnected.")
            }
        }
    }
}
