import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OnboardCrypto
import Synchronization
import Testing

@testable import Onboarding

/// The optional TOTP second factor: setting it up on the account page, the code step at sign-in, replays, recovery
/// codes, the throttle, and an owner's reset.
@Suite("Admin: second factor")
struct AdminSecondFactorTests {
    typealias H = ServiceHarness

    static func hidden(_ name: String, in html: String) throws -> String {
        let match = try #require(html.firstMatch(of: try Regex<(Substring, Substring)>(#"name="\#(name)" value="([^"]*)""#)))
        return String(match.output.1).replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Sets up and turns on `admin`'s second factor on the account page; returns the TOTP and the recovery codes.
    static func turnOn(_ h: H, _ admin: Browser) async throws -> (TOTP, [String], [UInt8]) {
        let off = try await admin.get("/admin/account")
        #expect(off.status == .ok && off.html.contains("Off: signing in asks for your password only."))
        let csrf = try hidden("csrf_token", in: off.html)
        #expect(try await admin.post("/admin/account/totp", form: ["csrf_token": csrf]).status == .seeOther)
        let pending = try await admin.get("/admin/account")
        let secret = try #require(pending.html.firstMatch(of: /id="totp-secret">([A-Z2-7]+)</)?.output.1)
        #expect(pending.html.contains("otpauth://totp/") && pending.html.contains("secret=\(secret)"))
        let bytes = try #require(Base32.decode(secret))
        let totp = try TOTP(secret: bytes)
        let wrongCode = totp.code(at: h.clock.appClock.now()) == "000000" ? "111111" : "000000"
        let wrong = try await admin.post("/admin/account/totp/enable", form: ["csrf_token": csrf, "code": wrongCode])
        #expect(wrong.status == .badRequest && wrong.html.contains("That code is not the current one."))
        let on = try await admin.post("/admin/account/totp/enable", form: ["csrf_token": csrf, "code": totp.code(at: h.clock.appClock.now())])
        #expect(on.status == .ok && on.headers[.cacheControl] == "no-store")
        let codes = on.html.matches(of: /<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})<\/code><\/li>/).map { String($0.output.1) }
        #expect(codes.count == 10)
        // The code just used is spent: the next sign-in needs a later one.
        h.clock.advance(by: 30)
        return (totp, codes, bytes)
    }

    /// The password step on a fresh browser: the code form with its challenge.
    static func password(_ name: String, on browser: Browser) async throws -> (Browser, String) {
        let fresh = Browser(client: browser.client)
        let answer = try await fresh.signIn(name)
        #expect(answer.status == .ok && answer.html.contains(#"action="/admin/login/code""#))
        #expect(fresh.cookies["so_admin"] == nil, "no session before the code")
        return (fresh, try hidden("challenge", in: answer.html))
    }

    static func code(_ code: String, challenge: String, on browser: Browser) async throws -> TestResponse {
        let csrf = try #require(browser.cookies["so_csrf"])
        return try await browser.post(
            "/admin/login/code",
            form: ["csrf_token": csrf, "challenge": challenge, "code": code, "next": "/admin/account"]
        )
    }

    @Test func settingUpStoresTheSecretSealedAndTheRecoveryCodesOnlyAsHashes() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                let olga = try await AdminRealmTests.signedIn("olga", on: browser)
                let (_, codes, secret) = try await Self.turnOn(h, olga)
                let stored = try #require(try await h.database().admin(named: "olga"))
                #expect(stored.totpEnabled && stored.totpLastStep != nil)
                let sealed = try #require(stored.totpSecretSealed)
                let vault = TokenVault(keyRing: try KeyRing(parsing: h.keys))
                #expect(try vault.openAdminTOTPSecret(sealed, adminName: "olga") == secret)
                #expect(throws: (any Error).self) { try vault.openAdminTOTPSecret(sealed, adminName: "otto") }
                #expect(!sealed.contains(Base32.encode(secret)))
                let hashes = Set((stored.recoveryCodeHashes ?? "").split(separator: " ").map(String.init))
                #expect(hashes == Set(codes.map { sha256Hex(RecoveryCodes.normalized($0)!) }))
                #expect(codes.allSatisfy { !(stored.recoveryCodeHashes ?? "").contains($0) })
                let audit = try await h.database().auditEvents().filter { $0.action == .adminTOTPEnabled }
                #expect(audit.count == 1 && audit.first?.actor == .admin("olga"))
                let page = try await olga.get("/admin/account")
                #expect(page.html.contains(#"<span id="recovery-left">10</span>"#) && !page.html.contains(codes[0]))
                #expect(SealedColumn.all.contains { $0.name == "adminUser.totpSecretSealed" })
                let counts = try await h.database().sealedValueCounts(in: .adminTOTPSecret)
                #expect(counts.map(\.count).reduce(0, +) == 1)
            }
        }
    }

    @Test func signingInAsksForTheCodeAndRefusesAReplayedOne() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                let (totp, _, _) = try await Self.turnOn(h, try await AdminRealmTests.signedIn("olga", on: browser))
                let (first, challenge) = try await Self.password("olga", on: browser)
                #expect(try await first.get("/admin").status == .seeOther, "not signed in by the password alone")
                let code = totp.code(at: h.clock.appClock.now())
                let signedIn = try await Self.code(code, challenge: challenge, on: first)
                #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/admin/account")
                #expect(try await first.get("/admin").status == .ok)

                let (second, again) = try await Self.password("olga", on: browser)
                let replayed = try await Self.code(code, challenge: again, on: second)
                #expect(replayed.status == .unauthorized && replayed.html.contains("That code is not right, or was used already."))
                #expect(second.cookies["so_admin"] == nil)
                h.clock.advance(by: 30)
                let challenged = try Self.hidden("challenge", in: replayed.html)
                let next = try await Self.code(totp.code(at: h.clock.appClock.now()), challenge: challenged, on: second)
                #expect(next.status == .seeOther && second.cookies["so_admin"] != nil)
                let failed = try await h.database().auditEvents().filter { $0.action == .adminSignInFailed }
                #expect(failed.count == 1 && failed.first?.detail.hasPrefix("wrong code") == true && failed.first?.actor == .admin("olga"))
            }
        }
    }

    @Test func aChallengeOpensAtMostOneSession() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                let (totp, codes, _) = try await Self.turnOn(h, try await AdminRealmTests.signedIn("olga", on: browser))
                let (first, challenge) = try await Self.password("olga", on: browser)
                #expect(try await Self.code(totp.code(at: h.clock.appClock.now()), challenge: challenge, on: first).status == .seeOther)
                h.clock.advance(by: 30)
                let other = Browser(client: browser.client)
                _ = try await other.get("/admin/login")
                let nextStep = try await Self.code(totp.code(at: h.clock.appClock.now()), challenge: challenge, on: other)
                #expect(nextStep.status == .unauthorized && other.cookies["so_admin"] == nil, "the next TOTP step on a spent challenge")
                let recovery = try await Self.code(codes[0], challenge: challenge, on: other)
                #expect(recovery.status == .unauthorized && other.cookies["so_admin"] == nil, "a recovery code on a spent challenge")
                let sessions = try await h.database().auditEvents().filter { $0.action == .adminSignedIn && $0.detail.contains("second factor") }
                #expect(sessions.count == 1)
            }
        }
    }

    @Test func aRecoveryCodeSignsInOnce() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                let (_, codes, _) = try await Self.turnOn(h, try await AdminRealmTests.signedIn("olga", on: browser))
                let (first, challenge) = try await Self.password("olga", on: browser)
                let typed = codes[3].uppercased().replacingOccurrences(of: "-", with: " ")
                #expect(try await Self.code(typed, challenge: challenge, on: first).status == .seeOther)
                #expect(try await first.get("/admin/account").html.contains(#"<span id="recovery-left">9</span>"#))
                let (second, again) = try await Self.password("olga", on: browser)
                #expect(try await Self.code(codes[3], challenge: again, on: second).status == .unauthorized, "spent")
                let used = try await h.database().auditEvents().filter { $0.action == .adminRecoveryCodeUsed }
                #expect(used.count == 1 && used.first?.actor == .admin("olga"))
                #expect(try await h.database().auditEvents().last?.action == .adminSignInFailed)
            }
        }
    }

    @Test func wrongCodesAreCountedByTheSignInThrottle() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages(["admin.signInMaxFailures": "3"]) { browser, _ in
                let (totp, _, _) = try await Self.turnOn(h, try await AdminRealmTests.signedIn("olga", on: browser))
                let (olga, challenge) = try await Self.password("olga", on: browser)
                let right = totp.code(at: h.clock.appClock.now())
                let wrong = right == "123456" ? "654321" : "123456"
                for _ in 0..<3 { #expect(try await Self.code(wrong, challenge: challenge, on: olga).status == .unauthorized) }
                let refused = try await Self.code(right, challenge: challenge, on: olga)
                #expect(refused.status == .tooManyRequests && refused.headers[.retryAfter] != nil)
                #expect(olga.cookies["so_admin"] == nil)
            }
        }
    }

    @Test func aForgedOrExpiredChallengeSignsNobodyIn() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                let (totp, _, _) = try await Self.turnOn(h, try await AdminRealmTests.signedIn("olga", on: browser))
                let (olga, challenge) = try await Self.password("olga", on: browser)
                let forged = Base64URL.encode(Array("olga|9999999999".utf8)) + ".t1.AAAA"
                #expect(try await Self.code(totp.code(at: h.clock.appClock.now()), challenge: forged, on: olga).status == .unauthorized)
                h.clock.advance(by: AdminSessions.challengeLifetime + 1)
                let late = try await Self.code(totp.code(at: h.clock.appClock.now()), challenge: challenge, on: olga)
                #expect(late.status == .unauthorized && late.html.contains(#"action="/admin/login""#))
                #expect(olga.cookies["so_admin"] == nil)
            }
        }
    }

    @Test func anAdminRenewsRecoveryCodesAndTurnsTheSecondFactorOffOnlyWithTheirPassword() async throws {
        try await H.run { h in
            try await h.addAdmin("otto", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let otto = try await AdminRealmTests.signedIn("otto", on: browser)
                let (totp, oldCodes, _) = try await Self.turnOn(h, otto)
                let page = try await otto.get("/admin/account")
                #expect(page.html.contains(#"id="recovery-left">10<"#))
                let csrf = try Self.hidden("csrf_token", in: page.html)

                let wrong = try await otto.post("/admin/account/recovery-codes", form: ["csrf_token": csrf, "password": "not my password"])
                #expect(wrong.status == .badRequest && wrong.html.contains("That is not your current password"))
                #expect(try await h.database().auditEvents().last?.detail.hasPrefix("wrong password when confirming a change") == true)
                let renewed = try await otto.post("/admin/account/recovery-codes", form: ["csrf_token": csrf, "password": H.password])
                #expect(renewed.status == .ok && renewed.headers[.cacheControl] == "no-store" && renewed.html.contains("ten new recovery codes"))
                let newCodes = renewed.html.matches(of: /<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})<\/code><\/li>/).map { String($0.output.1) }
                #expect(newCodes.count == 10 && Set(newCodes).isDisjoint(with: oldCodes))
                let (old, oldChallenge) = try await Self.password("otto", on: browser)
                #expect(try await Self.code(oldCodes[0], challenge: oldChallenge, on: old).status == .unauthorized, "old codes end")
                let (fresh, challenge) = try await Self.password("otto", on: browser)
                #expect(try await Self.code(newCodes[0], challenge: challenge, on: fresh).status == .seeOther)

                let keepOn = try await otto.post("/admin/account/totp/off", form: ["csrf_token": csrf, "password": "still not it"])
                #expect(keepOn.status == .badRequest && keepOn.html.contains(#"id="turn-off""#))
                #expect(try await h.database().admin(named: "otto")?.totpEnabled == true)
                let off = try await otto.post("/admin/account/totp/off", form: ["csrf_token": csrf, "password": H.password])
                #expect(off.status == .seeOther && off.headers[.location] == "/admin/account?done=second_factor_off")
                #expect(try await otto.get("/admin/account?done=second_factor_off").html.contains("Your second factor is off"))
                let stored = try #require(try await h.database().admin(named: "otto"))
                #expect(!stored.totpEnabled && stored.totpSecretSealed == nil && stored.recoveryCodeHashes == nil)
                let actions = try await h.database().auditEvents().filter { $0.actor == .admin("otto") }.map(\.action)
                #expect(actions.contains(.adminRecoveryCodesRenewed) && actions.last == .adminTOTPDisabled)
                _ = totp
                #expect(try await Browser(client: browser.client).signIn("otto").status == .seeOther, "the password alone again")
            }
        }
    }

    @Test func wrongPasswordConfirmationsAreCountedByTheSignInThrottle() async throws {
        try await H.run { h in
            try await h.addAdmin("otto", role: .viewer)
            try await h.withAdminPages(["admin.signInMaxFailures": "3"]) { browser, _ in
                let otto = try await AdminRealmTests.signedIn("otto", on: browser)
                _ = try await Self.turnOn(h, otto)
                let csrf = try await otto.adminCSRFToken()
                for _ in 0..<3 {
                    let wrong = try await otto.post("/admin/account/totp/off", form: ["csrf_token": csrf, "password": "guess"])
                    #expect(wrong.status == .badRequest)
                }
                let refused = try await otto.post("/admin/account/totp/off", form: ["csrf_token": csrf, "password": H.password])
                #expect(refused.status == .tooManyRequests && refused.headers[.retryAfter] != nil)
                #expect(try await h.database().admin(named: "otto")?.totpEnabled == true)
                #expect(try await h.database().auditEvents().contains { $0.action == .adminLockedOut })
            }
        }
    }

    @Test func changingOnesOwnPasswordKeepsThisSessionAndEndsTheOthers() async throws {
        try await H.run { h in
            try await h.addAdmin("otto", role: .viewer)
            try await h.withAdminPages { browser, _ in
                let here = try await AdminRealmTests.signedIn("otto", on: browser)
                let elsewhere = try await AdminRealmTests.signedIn("otto", on: browser)
                let form = try await here.get("/admin/account/password")
                #expect(form.status == .ok && form.html.contains("Change your password") && form.headers[.cacheControl] == "no-store")
                let csrf = try Self.hidden("csrf_token", in: form.html)
                let changed = try await here.post(
                    "/admin/account/password",
                    form: ["csrf_token": csrf, "current_password": H.password, "new_password": "a brand new passphrase"]
                )
                #expect(changed.status == .seeOther && changed.headers[.location] == "/admin/account?done=password_changed")
                #expect(try await here.get("/admin/account").status == .ok)
                #expect(try await elsewhere.get("/admin/account").status == .seeOther, "the other session ended")
                #expect(try await Browser(client: browser.client).signIn("otto", password: "a brand new passphrase").status == .seeOther)
            }
        }
    }

    @Test func keyRotationReSealsTheSecretAndSigningInStillWorks() async throws {
        try await H.run { h in
            try await h.addAdmin("olga", role: .owner)
            let new = try KeyRotationTests.key("new")
            let turnedOn = Mutex<[UInt8]>([])
            try await h.withAdminPages { browser, _ in
                let (_, _, secret) = try await Self.turnOn(h, try await AdminRealmTests.signedIn("olga", on: browser))
                turnedOn.withLock { $0 = secret }
            }
            let secret = turnedOn.withLock { $0 }
            let rotation = KeyRotation(store: try h.database(), keyRing: try KeyRing(parsing: "\(new),\(h.keys)"), batchSize: 10)
            let report = try await rotation.run()
            #expect(report.succeeded && report.columns.first { $0.column == "adminUser.totpSecretSealed" }?.resealed == 1)
            let sealed = try #require(try await h.database().admin(named: "olga")?.totpSecretSealed)
            let vault = TokenVault(keyRing: try KeyRing(parsing: new))
            #expect(try vault.openAdminTOTPSecret(sealed, adminName: "olga") == secret, "opens under the new key alone")
        }
    }

    @Test func migrationV8KeepsTheAuditLogAndItsIndexes() async throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: "v7: refresh due indexes")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO auditEvent (occurredAt, actor, action, merchantId, detail)
                    VALUES ('2026-01-01 00:01:00.000', 'merchant', 'connection.connected', 'MLA', 'flow=code'),
                           ('2026-01-02 00:01:00.000', 'admin:amy', 'admin.signed_in', NULL, 'address=1');
                    """
            )
        }
        let store = try AppDatabase(queue)
        let audit = try await store.auditEvents()
        #expect(audit.map(\.action) == [.connectionConnected, .adminSignedIn] && audit.map(\.id) == [1, 2])
        for action in [AuditAction.tokenStatusChecked, .adminTOTPEnabled, .adminTOTPReset, .adminRecoveryCodeUsed] {
            try await store.appendAudit(AuditEventRecord(occurredAt: Date(), actor: .admin("amy"), action: action))
        }
        #expect(try await store.auditEvents().last?.id == 6)
        let indexes = try await queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'") }
        for index in ["index_auditEvent_on_occurredAt", "index_auditEvent_on_merchantId", "auditEvent_by_action", "auditEvent_by_actor"] {
            #expect(indexes.contains(index))
        }
        let columns = try await queue.read { db in try db.columns(in: "adminUser").map(\.name) }
        #expect(columns.contains("totpLastStep"))
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.execute(sql: "INSERT INTO auditEvent (occurredAt, actor, action, detail) VALUES ('2026-01-03', 'cli', 'admin.nonsense', '')")
            }
        }
    }
}
