import Foundation
import Hummingbird
import HummingbirdTesting
import SquareEmulator
import Testing

@testable import Onboarding

/// A link's whole life as a partner follows it: read, cancelled, completed with every result, and a dead link's way
/// back to the partner through its refresh URL.
@Suite("Partner links: status, cancellation, results, refresh URL")
struct PartnerLinkLifeTests {
    typealias H = ServiceHarness
    static let refreshURL = "https://acme.example/onboarding/refresh?step=2"

    /// The link's JSON as `GET /onboarding-links/{id}` answers it.
    static func read(_ partner: TestPartner, _ browser: Browser, _ id: String) async throws -> [String: Any] {
        let answer = try await partner.call(browser, .get, "/onboarding-links/\(id)")
        #expect(answer.status == .ok, "\(answer.html)")
        return try answer.jsonObject()
    }

    /// The `onboarding_link.completed` events queued for a partner, oldest first, as JSON.
    static func completions(_ h: H, _ partner: TestPartner) async throws -> [[String: Any]] {
        try await h.database().webhookDeliveries(partnerId: partner.record.id, limit: 50).reversed()
            .filter { $0.type == "onboarding_link.completed" }
            .map { try #require(try JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any]) }
    }

    @Test func aLinkIsOpenThenCompletedWithItsResultAndOnlyItsPartnerSeesIt() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h, webhookURL: "http://127.0.0.1:9/hooks")
            let globex = try await TestPartner.add(h, name: "globex", displayName: "Globex", returnURLs: ["https://globex.example/"])
            try await h.withService(["webhooks.enabled": "false"]) { browser in
                let link = try await acme.createLink(browser, reference: "acct-1")
                let id = try #require(link["id"] as? String)
                #expect(link["status"] as? String == "open" && link["created_at"] is String && link["result"] == nil)
                #expect(try await Self.read(acme, browser, id)["status"] as? String == "open")

                let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
                let callback = try await h.consent(at: try #require(start.headers[.location]))
                let back = try await browser.get(callback)
                #expect(try acme.verify(try #require(back.headers[.location]))["result"] == "created")

                let done = try await Self.read(acme, browser, id)
                #expect(done["status"] as? String == "completed" && done["result"] as? String == "connected")
                #expect(done["merchant_id"] as? String == "MLSANDBOXCAFE" && done["completed_at"] is String)
                #expect(try await globex.call(browser, .get, "/onboarding-links/\(id)").status == .notFound, "another partner's link")
                #expect(try await acme.call(browser, .get, "/onboarding-links/lnk_nothing").status == .notFound)
                let malformed = try await acme.call(browser, .get, "/onboarding-links/bogus")
                #expect(malformed.status == .badRequest)
                #expect(try malformed.apiError()["field"] as? String == "link_id")

                let again = try await acme.connect(h, browser, reference: "acct-1")
                #expect(try acme.verify(try #require(again.headers[.location]))["result"] == "reconnected")
                let results = try await Self.completions(h, acme).compactMap { $0["data"] as? [String: Any] }
                #expect(results.map { $0["result"] as? String } == ["connected", "reconnected"])
                #expect(results.first?["link_id"] as? String == id && results.first?["merchant_id"] as? String == "MLSANDBOXCAFE")
            }
        }
    }

    @Test func aDeniedOrFailedFlowCompletesTheLinkAndThePartnersBackendHearsIt() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h, webhookURL: "http://127.0.0.1:9/hooks")
            try await h.withService(["webhooks.enabled": "false"]) { browser in
                let denied = try await acme.connect(h, browser, decision: "deny")
                let deniedValues = try acme.verify(try #require(denied.headers[.location]))
                #expect(deniedValues["status"] == "denied")
                let deniedLink = try await Self.read(acme, browser, try #require(deniedValues["link_id"]))
                #expect(deniedLink["status"] as? String == "completed" && deniedLink["result"] as? String == "denied")
                #expect(deniedLink["merchant_id"] == nil)

                h.emulator.inject(EmulatorFault.status(503, path: "/oauth2/token"))
                let failed = try await acme.connect(h, browser)
                let failedValues = try acme.verify(try #require(failed.headers[.location]))
                #expect(failedValues["status"] == "error" && failedValues["error"] == "square_unavailable")
                let failedLink = try await Self.read(acme, browser, try #require(failedValues["link_id"]))
                #expect(failedLink["result"] as? String == "error" && failedLink["error"] as? String == "square_unavailable")

                let events = try await Self.completions(h, acme)
                let data = events.compactMap { $0["data"] as? [String: Any] }
                #expect(data.map { $0["result"] as? String } == ["denied", "error"])
                #expect(data.last?["error"] as? String == "square_unavailable")
                #expect(data.first?["merchant_id"] is NSNull, "a denied flow names no merchant")
                #expect(try await h.database().webhookDeliveries(partnerId: acme.record.id, limit: 50).count == 2, "no connection event")
            }
        }
    }

    @Test func aCancelledLinkStartsNothingAndAFlowAlreadyAtSquareConnectsNothing() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h)
            try await h.withService { browser in
                let link = try await acme.createLink(browser)
                let id = try #require(link["id"] as? String)
                let start = try await browser.pressConnect(link: try #require(link["url"] as? String))

                let cancelled = try await acme.call(browser, .delete, "/onboarding-links/\(id)")
                #expect(cancelled.status == .ok)
                #expect(try cancelled.jsonObject()["status"] as? String == "cancelled")
                #expect(try cancelled.jsonObject()["cancelled_at"] is String)
                #expect(try await acme.call(browser, .delete, "/onboarding-links/\(id)").status == .ok, "cancelling again answers the same")

                let callback = try await h.consent(at: try #require(start.headers[.location]))
                let back = try await browser.get(callback)
                let values = try acme.verify(try #require(back.headers[.location]))
                #expect(values["status"] == "error" && values["error"] == "link_cancelled" && values["merchant_id"] == nil)
                #expect(h.emulator.callCount(path: "/oauth2/token") == 0, "the code was never exchanged")
                #expect(try await h.database().allConnections().isEmpty)

                let page = try await browser.get(try Self.path(of: link))
                #expect(page.status == .gone && page.html.contains("Acme Payroll cancelled this link"))
                #expect(!page.html.contains("Try again"), "no dead end on the platform's own connect page")
                let audit = try await h.database().auditEvents().filter { $0.action == .linkCancelled }
                #expect(audit.count == 1 && audit.first?.actor == .partner(acme.record.id))
            }
        }
    }

    @Test func onlyAnOpenLinkCanBeCancelled() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h)
            try await h.withService { browser in
                let back = try await acme.connect(h, browser)
                let location = try #require(back.headers[.location])
                let id = try #require(try acme.verify(location)["link_id"])
                let completed = try await acme.call(browser, .delete, "/onboarding-links/\(id)")
                #expect(completed.status == .conflict && completed.errorCode == "link_not_open")
                #expect(try await Self.read(acme, browser, id)["status"] as? String == "completed")

                let short = try await acme.createLink(browser, extra: #","expires_in":60"#)
                h.clock.advance(by: 61)
                let shortId = try #require(short["id"] as? String)
                #expect(try await Self.read(acme, browser, shortId)["status"] as? String == "expired")
                #expect(try await acme.call(browser, .delete, "/onboarding-links/\(shortId)").errorCode == "link_not_open")
            }
        }
    }

    @Test func aDeadLinkSendsTheBrowserToItsRefreshURLSigned() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h)
            try await h.withService { browser in
                let outside = try await acme.call(
                    browser,
                    .post,
                    "/onboarding-links",
                    json: #"{"reference":"a","return_url":"\#(TestPartner.returnURL)","refresh_url":"https://evil.example/x"}"#
                )
                #expect(outside.status == .badRequest && outside.errorCode == "refresh_url_not_allowed")
                #expect(try outside.apiError()["field"] as? String == "refresh_url")

                let refresh = #","refresh_url":"\#(Self.refreshURL)""#
                let used = try await acme.createLink(browser, reference: "acct-9", extra: refresh)
                #expect(used["refresh_url"] as? String == Self.refreshURL)
                let start = try await browser.pressConnect(link: try #require(used["url"] as? String))
                _ = try await browser.get(try await h.consent(at: try #require(start.headers[.location])))
                try await Self.expectRefresh(acme, browser, link: used, status: "completed")

                let cancelled = try await acme.createLink(browser, extra: refresh)
                _ = try await acme.call(browser, .delete, "/onboarding-links/\(try #require(cancelled["id"] as? String))")
                try await Self.expectRefresh(acme, browser, link: cancelled, status: "cancelled")

                let expiring = try await acme.createLink(browser, extra: refresh + #","expires_in":60"#)
                let page = try await browser.get(try Self.path(of: expiring))
                #expect(page.status == .ok, "open: the connect page, not the refresh URL")
                h.clock.advance(by: 61)
                try await Self.expectRefresh(acme, browser, link: expiring, status: "expired")
                // A page left open past the link's end: pressing Connect goes to the refresh URL too.
                let csrf = try #require(page.html.firstMatch(of: /name="csrf_token" value="([^"]+)"/)?.output.1)
                let pressed = try await browser.post(
                    "/oauth/start",
                    form: ["csrf_token": String(csrf), "link": try #require(expiring["id"] as? String)]
                )
                #expect(pressed.status == .seeOther && pressed.headers[.location]?.hasPrefix("https://acme.example/onboarding/refresh") == true)

                let plain = try await acme.createLink(browser)
                _ = try await acme.call(browser, .delete, "/onboarding-links/\(try #require(plain["id"] as? String))")
                let dead = try await browser.get(try Self.path(of: plain))
                #expect(dead.status == .gone && !dead.html.contains("Try again"), "without a refresh URL: a page that explains")
            }
        }
    }

    /// Opening `link` redirects to the refresh URL, keeping its own query, with the signed link id, status and reference.
    static func expectRefresh(_ partner: TestPartner, _ browser: Browser, link: [String: Any], status: String) async throws {
        let answer = try await browser.get(try path(of: link))
        #expect(answer.status == .seeOther)
        let location = try #require(answer.headers[.location])
        #expect(location.hasPrefix(refreshURL + "&"))
        let values = try partner.verify(location)
        #expect(values["link_id"] == link["id"] as? String && values["status"] == status)
        #expect(values["reference"] == link["reference"] as? String && values["merchant_id"] == nil && values["step"] == "2")
    }

    static func path(of link: [String: Any]) throws -> String { try TestPartner.path(of: link) }
}
