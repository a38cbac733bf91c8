import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SquareEmulator
import TestSupport
import Testing

@testable import Onboarding

@Suite("Partners apart: another partner's link, tokens never kept, created after a delete")
struct PartnerIsolationTests {
    typealias H = ServiceHarness
    static let acmeScopes = #","scopes":["MERCHANT_PROFILE_READ","PAYMENTS_READ"]"#
    static let globexReturn = "https://globex.example/onboarding/done"

    /// Adds the two partners of these tests, both sending webhooks to `url`.
    static func partners(_ h: H, webhookURL url: String) async throws -> (acme: TestPartner, globex: TestPartner) {
        let acme = try await TestPartner.add(h, webhookURL: url)
        let globex = try await TestPartner.add(
            h,
            name: "globex",
            displayName: "Globex",
            returnURLs: ["https://globex.example/onboarding/"],
            webhookURL: url
        )
        return (acme, globex)
    }

    /// Globex's link, followed by the merchant in a browser of its own; returns the callback's answer and that browser.
    static func connectThroughGlobex(_ h: H, _ globex: TestPartner, _ browser: Browser, merchantId: String) async throws -> TestResponse {
        let link = try await globex.createLink(
            browser,
            reference: "globex-ref",
            returnURL: globexReturn,
            extra: #","scopes":["MERCHANT_PROFILE_READ"]"#
        )
        let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
        return try await browser.get(try await h.consent(at: try #require(start.headers[.location]), merchantId: merchantId))
    }

    /// The webhook event types queued for a partner, oldest first.
    static func eventTypes(_ h: H, _ partner: TestPartner) async throws -> [String] {
        try await h.database().webhookDeliveries(partnerId: partner.record.id, limit: 50).reversed().map(\.type)
    }

    @Test func anotherPartnersLinkLeavesTheHoldersConnectionTokenScopesAndWebhooksAsTheyWere() async throws {
        let receiver = WebhookReceiver(path: "/hooks")
        try await receiver.run { url in
            try await H.run { h in
                let (acme, globex) = try await Self.partners(h, webhookURL: url)
                try await h.withService { browser in
                    let link = try await acme.createLink(browser, extra: Self.acmeScopes)
                    let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
                    _ = try await browser.get(try await h.consent(at: try #require(start.headers[.location]), merchantId: "MLSANDBOXCAFE"))
                    try await h.waitForStatusCheck("MLSANDBOXCAFE")
                    let held = try #require(try await h.database().connection(environment: H.environment, merchantId: "MLSANDBOXCAFE"))
                    let tokenAnswer = try await acme.call(browser, .post, "/connections/MLSANDBOXCAFE/access-token")
                    let token = try #require(try tokenAnswer.jsonObject()["access_token"] as? String)

                    let merchant = Browser(client: browser.client)
                    let back = try await Self.connectThroughGlobex(h, globex, merchant, merchantId: "MLSANDBOXCAFE")
                    #expect(back.status == .seeOther)
                    let values = try globex.verify(try #require(back.headers[.location]))
                    #expect(values["status"] == "error" && values["error"] == "connected_through_another_partner")
                    #expect(values["merchant_id"] == nil, "globex does not learn the merchant's id")
                    #expect(try await merchant.get("/connection").status == .unauthorized, "no merchant session for a refused flow")

                    let after = try #require(try await h.database().connection(environment: H.environment, merchantId: "MLSANDBOXCAFE"))
                    #expect(after == held, "acme's connection is exactly as it was: tokens, scopes, connectedAt, partner")
                    #expect(after.scopes.contains("PAYMENTS_READ"))
                    let again = try await acme.call(browser, .post, "/connections/MLSANDBOXCAFE/access-token")
                    #expect(try again.jsonObject()["access_token"] as? String == token, "acme still gets its own token")
                    let status = try await h.square.execute(uri: "/oauth2/token/status", method: .post, headers: [.authorization: "Bearer \(token)"])
                    #expect(status.status == .ok, "acme's token still works at Square")
                    #expect(h.emulator.callCount(path: "/oauth2/revoke") == 0, "nothing was revoked: that would end acme's token too")
                    #expect(try await globex.call(browser, .get, "/connections/MLSANDBOXCAFE").status == .notFound)

                    #expect(try await Self.eventTypes(h, acme) == ["connection.created", "onboarding_link.completed"], "acme hears of nothing new")
                    let globexEvents = try await h.database().webhookDeliveries(partnerId: globex.record.id, limit: 10)
                    #expect(globexEvents.map(\.type) == ["onboarding_link.completed"], "globex hears how its link ended, and nothing more")
                    #expect(globexEvents.first?.merchantId == nil)
                    #expect(globexEvents.first?.payload.contains(#""result":"connected_through_another_partner""#) == true)
                    let refusals = try await h.database().auditEvents().filter { $0.action == .authorizationRefused }
                    #expect(refusals.count == 1 && refusals.first?.merchantId == "MLSANDBOXCAFE")
                    #expect(refusals.first?.detail.contains("partner=\(globex.record.id) holder=\(acme.record.id)") == true)
                    let connections = try await h.database().allConnections()
                    #expect(connections.count == 1)
                    #expect(!h.logs.all.joined().contains(token))
                }
            }
        }
    }

    @Test func theAdminConnectionPageShowsTheRefusedAttempt() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h)
            let globex = try await TestPartner.add(h, name: "globex", displayName: "Globex", returnURLs: ["https://globex.example/onboarding/"])
            try await h.addAdmin("otto", role: .operator)
            try await h.withService { browser in
                _ = try await acme.connect(h, browser, merchantId: "MLSANDBOXCAFE")
                _ = try await Self.connectThroughGlobex(h, globex, Browser(client: browser.client), merchantId: "MLSANDBOXCAFE")
                let admin = Browser(client: browser.client)
                _ = try await admin.signIn("otto")
                let page = try await admin.get("/admin/connections/MLSANDBOXCAFE")
                #expect(page.status == .ok)
                #expect(page.html.contains("authorization.refused") && page.html.contains("connected_through_another_partner"))
            }
        }
    }

    @Test func connectingAgainAfterADeleteIsCreatedAndAnotherPartnerMayTakeTheMerchant() async throws {
        let receiver = WebhookReceiver(path: "/hooks")
        try await receiver.run { url in
            try await H.run { h in
                let (acme, globex) = try await Self.partners(h, webhookURL: url)
                try await h.withService { browser in
                    for expected in ["created", "reconnected"] {
                        let back = try await acme.connect(h, browser, merchantId: "MLSANDBOXCAFE")
                        #expect(try acme.verify(try #require(back.headers[.location]))["result"] == expected)
                    }
                    #expect(try await acme.call(browser, .delete, "/connections/MLSANDBOXCAFE").status == .ok)
                    let again = try await acme.connect(h, browser, merchantId: "MLSANDBOXCAFE")
                    #expect(try acme.verify(try #require(again.headers[.location]))["result"] == "created", "after a delete it starts anew")
                    #expect(
                        try await Self.eventTypes(h, acme) == [
                            "connection.created", "onboarding_link.completed", "connection.reconnected", "onboarding_link.completed",
                            "connection.revoked", "connection.created", "onboarding_link.completed",
                        ]
                    )

                    #expect(try await acme.call(browser, .delete, "/connections/MLSANDBOXCAFE").status == .ok)
                    let taken = try await Self.connectThroughGlobex(h, globex, Browser(client: browser.client), merchantId: "MLSANDBOXCAFE")
                    let values = try globex.verify(try #require(taken.headers[.location]))
                    #expect(values["status"] == "connected" && values["result"] == "created" && values["merchant_id"] == "MLSANDBOXCAFE")
                    #expect(try await Self.eventTypes(h, globex) == ["connection.created", "onboarding_link.completed"])
                    #expect(try await Self.eventTypes(h, acme).last == "connection.revoked", "acme hears nothing of globex's connection")
                    #expect(try await acme.call(browser, .get, "/connections/MLSANDBOXCAFE").status == .notFound)
                    #expect(try await globex.call(browser, .get, "/connections/MLSANDBOXCAFE").status == .ok)
                }
            }
        }
    }

    @Test(arguments: [
        "/connections/MLSANDBOXCAFE/access-token", "/connections/MLSANDBOXCAFE/access-token/", "/connections//MLSANDBOXCAFE//access-token",
        "/connections/MLSANDBOXCAFE/access-token//",
    ])
    func anAccessTokenAnswerIsNeverKeptForAnIdempotencyKey(path: String) async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                _ = try await partner.connect(h, browser, merchantId: "MLSANDBOXCAFE")
                let key: HTTPFields = [.init("Idempotency-Key")!: "token-retry"]
                let first = try await partner.call(browser, .post, path, json: #"{"min_valid_for":60}"#, headers: key)
                #expect(first.status == .ok, "\(path): \(first.html)")
                let token = try #require(try first.jsonObject()["access_token"] as? String)
                let second = try await partner.call(browser, .post, path, json: #"{"min_valid_for":60}"#, headers: key)
                #expect(second.status == .ok && second.headers[.init("Idempotent-Replayed")!] == nil, "a retry runs again")
                let kept = try await h.rawDatabase().read { db in try String.fetchAll(db, sql: "SELECT body FROM idempotencyKey") }
                #expect(kept.isEmpty, "nothing kept for \(path)")
                #expect(!kept.contains { $0.contains(token) })
            }
        }
    }

    @Test func idempotencyComparesTheRequestsMeaningNotItsBytes() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let key: HTTPFields = [.init("Idempotency-Key")!: "meaning-1"]
                let first = try await partner.call(
                    browser,
                    .post,
                    "/onboarding-links",
                    json: #"{"reference":"a","return_url":"https://acme.example/onboarding/done"}"#,
                    headers: key
                )
                let reordered = try await partner.call(
                    browser,
                    .post,
                    "/onboarding-links/",
                    json: "{\n  \"return_url\" : \"https://acme.example/onboarding/done\",\n  \"reference\" : \"a\"\n}",
                    headers: key
                )
                #expect(first.status == .created && reordered.status == .created)
                #expect(reordered.headers[.init("Idempotent-Replayed")!] == "true")
                #expect(try first.jsonObject()["id"] as? String == (try reordered.jsonObject()["id"] as? String))
                let changed = try await partner.call(
                    browser,
                    .post,
                    "/onboarding-links",
                    json: #"{"return_url":"https://acme.example/onboarding/done","reference":"b"}"#,
                    headers: key
                )
                #expect(changed.status == .conflict && changed.errorCode == "idempotency_key_reused")
            }
        }
    }
}
