import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Onboarding

/// The owners' admins page: the list, adding with a one-time password that must be replaced, roles, second-factor
/// resets and removal, each audited and each refused to operators and viewers.
@Suite("Admin: admins page")
struct AdminAdminsTests {
    typealias H = ServiceHarness

    static func oneTimePassword(in html: String) throws -> String {
        String(try #require(html.firstMatch(of: /id="one-time-password">([A-Za-z0-9_-]+)</)?.output.1))
    }

    @Test func anOwnerAddsAnOperatorWhoChoosesTheirOwnPasswordBeforeAnythingElse() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                let olga = try await AdminRealmTests.signedIn("olga", on: browser)
                let list = try await olga.get("/admin/admins")
                #expect(list.status == .ok && list.html.contains(#"<tr data-name="olga">"#) && list.html.contains("(you)"))
                let csrf = try await olga.adminCSRFToken()

                let added = try await olga.post("/admin/admins", form: ["csrf_token": csrf, "name": " Olivia ", "role": "operator"])
                #expect(added.status == .ok && added.headers[.cacheControl] == "no-store")
                let password = try Self.oneTimePassword(in: added.html)
                #expect(password.count >= AdminAccounts.passwordLength.lowerBound)
                #expect(added.html.contains(#"<tr data-name="olivia">"#) && added.html.contains("one-time password</span>"))
                let stored = try #require(try await h.database().admin(named: "olivia"))
                #expect(stored.role == .operator && stored.passwordChangeRequired && !stored.passwordHash.contains(password))
                let audit = try #require(try await h.database().auditEvents().last)
                #expect(audit.action == .adminAdded && audit.actor == .admin("olga"))
                #expect(audit.detail == "admin=olivia role=operator one-time password")
                #expect(try await olga.get("/admin/admins").html.contains(password) == false, "shown once")

                let olivia = Browser(client: browser.client)
                #expect(try await olivia.signIn("olivia", password: password).status == .seeOther)
                for path in ["/admin", "/admin/connections", "/admin/account"] {
                    let held = try await olivia.get(path)
                    #expect(held.status == .seeOther && held.headers[.location] == "/admin/account/password", "\(path)")
                }
                let form = try await olivia.get("/admin/account/password")
                #expect(form.status == .ok && form.html.contains("You signed in with a one-time password."))
                let ownCSRF = try AdminSecondFactorTests.hidden("csrf_token", in: form.html)
                let wrong = try await olivia.post(
                    "/admin/account/password",
                    form: ["csrf_token": ownCSRF, "current_password": "not it at all", "new_password": "olivias own password"]
                )
                #expect(wrong.status == .badRequest && wrong.html.contains("That is not your current password"))
                let short = try await olivia.post(
                    "/admin/account/password",
                    form: ["csrf_token": ownCSRF, "current_password": password, "new_password": "short"]
                )
                #expect(short.status == .badRequest && short.html.contains("at least 10 characters"))
                #expect(try await h.database().admin(named: "olivia")?.passwordChangeRequired == true)

                let chosen = try await olivia.post(
                    "/admin/account/password",
                    form: ["csrf_token": ownCSRF, "current_password": password, "new_password": "olivias own password"]
                )
                #expect(chosen.status == .seeOther && chosen.headers[.location] == "/admin")
                let home = try await olivia.get("/admin")
                #expect(home.status == .ok && home.html.contains(#"id="admin-role">operator<"#))
                #expect(try await Browser(client: browser.client).signIn("olivia", password: password).status == .unauthorized)
                #expect(try await Browser(client: browser.client).signIn("olivia", password: "olivias own password").status == .seeOther)
                let changes = try await h.database().auditEvents().filter { $0.action == .adminPasswordChanged }
                #expect(changes.map(\.actor) == [.admin("olivia")] && changes.map(\.detail) == ["admin=olivia own"])
            }
        }
    }

    @Test func aTakenOrBadNameIsShownAgainWithTheReasonAndNothingIsAdded() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                let olga = try await AdminRealmTests.signedIn("olga", on: browser)
                let csrf = try await olga.adminCSRFToken()
                for (name, role, reason) in [
                    ("olga", "viewer", "An admin named &#39;olga&#39; already exists"), ("bad name!", "viewer", "Admin names are 1 to 64"),
                    ("vera", "emperor", "No role is named"),
                ] {
                    let refused = try await olga.post("/admin/admins", form: ["csrf_token": csrf, "name": name, "role": role])
                    #expect(refused.status == .badRequest && refused.html.contains(reason), "\(name) \(role): \(refused.html)")
                    #expect(!refused.html.contains("one-time-password"))
                }
                #expect(try await h.database().allAdmins().map(\.name) == ["olga"])
            }
        }
    }

    @Test func anOwnerChangesRolesResetsSecondFactorsAndRemovesOthersButNotThemselves() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.addAdmin("otto", role: .operator)
            try await h.withAdminPages { browser, _ in
                let otto = try await AdminRealmTests.signedIn("otto", on: browser)
                _ = try await AdminSecondFactorTests.turnOn(h, otto)
                let olga = try await AdminRealmTests.signedIn("olga", on: browser)
                let csrf = try await olga.adminCSRFToken()

                let role = try await olga.post("/admin/admins/otto/role", form: ["csrf_token": csrf, "role": "viewer"])
                #expect(role.status == .seeOther && role.headers[.location] == "/admin/admins?done=role_changed&name=otto")
                #expect(try await olga.get(role.headers[.location] ?? "").html.contains("Changed the role of otto."))
                #expect(try await h.database().admin(named: "otto")?.role == .viewer)

                let reset = try await olga.post("/admin/admins/otto/second-factor/reset", form: ["csrf_token": csrf])
                #expect(reset.status == .seeOther && reset.headers[.location] == "/admin/admins?done=second_factor_reset&name=otto")
                #expect(try await h.database().admin(named: "otto")?.totpEnabled == false)

                let own = try await olga.post("/admin/admins/olga/role", form: ["csrf_token": csrf, "role": "viewer"])
                #expect(own.status == .badRequest && own.html.contains("You cannot change your own role"))
                #expect(try await olga.post("/admin/admins/olga/remove", form: ["csrf_token": csrf]).status == .badRequest)
                #expect(try await h.database().admin(named: "olga")?.role == .owner)

                let ask = try await olga.get("/admin/admins/otto/remove")
                #expect(ask.status == .ok && ask.html.contains(#"id="confirm-remove""#) && ask.html.contains(#"id="cancel""#))
                #expect(try await olga.get("/admin/admins/nobody/remove").status == .badRequest)
                let removed = try await olga.post("/admin/admins/otto/remove", form: ["csrf_token": csrf])
                #expect(removed.status == .seeOther && removed.headers[.location] == "/admin/admins?done=removed&name=otto")
                #expect(try await h.database().admin(named: "otto") == nil)
                #expect(try await otto.get("/admin").status == .seeOther, "otto's session ended")

                let events = try await h.database().auditEvents().filter { $0.actor == .admin("olga") }.map(\.action)
                #expect(events.suffix(3) == [.adminRoleChanged, .adminTOTPReset, .adminRemoved])
                let forged = try await olga.get("/admin/admins?done=removed&name=%3Cb%3Ehi")
                #expect(!forged.html.contains("id=\"notice\""), "a notice names only a valid admin name")
            }
        }
    }

    @Test func operatorsAndViewersGet403OnEveryAdminsRouteAndNothingChanges() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.addAdmin("otto", role: .operator)
            try await h.addAdmin("vera", role: .viewer)
            try await h.withAdminPages { browser, _ in
                for name in ["otto", "vera"] {
                    let admin = try await AdminRealmTests.signedIn(name, on: browser)
                    let home = try await admin.get("/admin")
                    #expect(!home.html.contains(#"href="/admin/admins""#), "no Admins link for \(name)")
                    let csrf = try await admin.adminCSRFToken()
                    #expect(try await admin.get("/admin/admins").status == .forbidden)
                    #expect(try await admin.get("/admin/admins/olga/remove").status == .forbidden)
                    for (path, form) in [
                        ("/admin/admins", ["name": "mallory", "role": "owner"]), ("/admin/admins/olga/role", ["role": "viewer"]),
                        ("/admin/admins/olga/second-factor/reset", [:]), ("/admin/admins/olga/remove", [:]),
                    ] {
                        let refused = try await admin.post(path, form: form.merging(["csrf_token": csrf]) { $1 })
                        #expect(refused.status == .forbidden, "\(name) \(path)")
                    }
                }
                let admins = try await h.database().allAdmins()
                #expect(admins.map(\.name) == ["olga", "otto", "vera"] && admins.first?.role == .owner)
                let olga = try await AdminRealmTests.signedIn("olga", on: browser)
                #expect(try await olga.get("/admin").html.contains(#"href="/admin/admins""#))
            }
        }
    }
}
