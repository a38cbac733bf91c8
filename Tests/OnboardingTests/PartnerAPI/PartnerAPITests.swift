import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SquareEmulator
import Testing

@testable import Onboarding

@Suite("Partner API: keys, links, connections, tokens, disconnect")
struct PartnerAPITests {
    typealias H = ServiceHarness

    @Test func theOpenAPIDocumentIsServedAsWritten() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let answer = try await browser.get("/api/v1/openapi.json")
                #expect(answer.status == .ok)
                #expect(answer.headers[.contentType]?.hasPrefix("application/json") == true)
                #expect(Data(String(buffer: answer.body).utf8) == (try PartnerAPIDocument.read().bytes))
                #expect(answer.html.contains("\"/onboarding-links\""))
            }
        }
    }

    @Test func missingMalformedUnknownAndRevokedKeysAllGetTheSame401() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            let directory = PartnerDirectory(
                store: try h.database(),
                vault: TokenVault(keyRing: try h.configuration().keyRing),
                clock: h.clock.appClock,
                logger: .init(label: "t")
            )
            let (_, newKey) = try await directory.rotateKey(name: "acme", actor: .cli)
            try await directory.revokeKey(name: "acme", prefix: String(partner.apiKey.prefix(12)), actor: .cli)
            try await h.withService { browser in
                let unknown = String(partner.apiKey.prefix(13)) + String(repeating: "x", count: 43)
                for key in ["", "not-a-key", "sok_", unknown, partner.apiKey] {
                    let answer = try await partner.call(browser, .get, "/connections", key: key)
                    #expect(answer.status == .unauthorized, "key '\(key.prefix(16))…'")
                    #expect(answer.errorCode == "unauthorized")
                    #expect(answer.headers[.wwwAuthenticate] == "Bearer")
                }
                let none = try await browser.client.execute(uri: "/api/v1/connections", method: .get)
                #expect(none.status == .unauthorized)
                let rotated = try await partner.call(browser, .get, "/connections", key: newKey)
                #expect(rotated.status == .ok, "the rotated key works while the revoked one does not")
            }
        }
    }

    @Test func aLinkTakesTheMerchantThroughSquareAndBackSigned() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let link = try await partner.createLink(browser, reference: "acct+42 & co")
                let url = try #require(link["url"] as? String)
                #expect(url.contains("/connect/lnk_"))
                #expect(link["mode"] as? String == "redirect")
                #expect((link["scopes"] as? [String]) == ["MERCHANT_PROFILE_READ", "PAYMENTS_READ", "ORDERS_WRITE"])

                let page = try await browser.get(try #require(URL(string: url)).path)
                #expect(page.html.contains("Acme Payroll"), "the connect page is branded with the partner's name")
                let start = try await browser.pressConnect(link: url)
                let callback = try await h.consent(at: try #require(start.headers[.location]), merchantId: "MLSANDBOXCAFE")
                let back = try await browser.get(callback)
                #expect(back.status == .seeOther)
                let location = try #require(back.headers[.location])
                #expect(location.hasPrefix(TestPartner.returnURL + "?"))
                let values = try partner.verify(location)
                #expect(values["status"] == "connected" && values["result"] == "created" && values["merchant_id"] == "MLSANDBOXCAFE")
                #expect(values["reference"] == "acct+42 & co" && values["link_id"] == link["id"] as? String)

                let connection = try await partner.call(browser, .get, "/connections/MLSANDBOXCAFE")
                #expect(connection.status == .ok)
                let body = try connection.jsonObject()
                #expect(body["reference"] as? String == "acct+42 & co" && body["status"] as? String == "active")
                #expect(body["access_token"] == nil && !connection.html.contains("sb1."), "no token or sealed box in a connection")

                let again = try await browser.get(try #require(URL(string: url)).path)
                #expect(again.status == .gone && again.html.contains("already used"), "a used link opens no second flow")
            }
        }
    }

    @Test func aDenialAndASquareErrorGoBackToThePartnerSignedToo() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let link = try await partner.createLink(browser)
                let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
                let callback = try await h.consent(at: try #require(start.headers[.location]), decision: "deny")
                let back = try await browser.get(callback)
                let values = try partner.verify(try #require(back.headers[.location]))
                #expect(values["status"] == "denied" && values["merchant_id"] == nil && values["reference"] == "acct-42")

                let second = try await partner.createLink(browser)
                let secondStart = try await browser.pressConnect(link: try #require(second["url"] as? String))
                h.emulator.inject(.status(500, path: "/oauth2/token", count: 1))
                let failed = try await browser.get(try await h.consent(at: try #require(secondStart.headers[.location])))
                let failure = try partner.verify(try #require(failed.headers[.location]))
                #expect(failure["status"] == "error" && failure["error"] == "square_unavailable")
                #expect(try await h.database().allConnections().isEmpty)
            }
        }
    }

    @Test func aReturnURLTheAllowListNoLongerHoldsIsNotFollowed() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let link = try await partner.createLink(browser)
                let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
                // Between making the link and the merchant's return, the partner's allow-list changes.
                let directory = PartnerDirectory(
                    store: try h.database(),
                    vault: TokenVault(keyRing: try h.configuration().keyRing),
                    clock: h.clock.appClock,
                    logger: .init(label: "t")
                )
                _ = try await directory.update(
                    name: "acme",
                    displayName: nil,
                    returnURLs: ["https://acme.example/elsewhere/"],
                    popupOrigins: nil,
                    webhookURL: nil,
                    actor: .cli
                )
                let back = try await browser.get(try await h.consent(at: try #require(start.headers[.location])))
                #expect(back.status == .seeOther)
                #expect(back.headers[.location] == "/connection?connected=1", "the merchant stays on our page, not the old URL")
                #expect(try await h.database().allConnections().first?.partnerId == partner.record.id, "the connection is still made")
            }
        }
    }

    @Test func aSecondLinkForTheSameMerchantReconnectsTheSameConnection() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                for expected in ["created", "reconnected"] {
                    let link = try await partner.createLink(browser)
                    let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
                    let back = try await browser.get(try await h.consent(at: try #require(start.headers[.location]), merchantId: "MLSANDBOXBIKE"))
                    #expect(try partner.verify(try #require(back.headers[.location]))["result"] == expected)
                }
                #expect(try await h.database().allConnections().count == 1)
            }
        }
    }

    @Test func linksRefuseUnlistedReturnURLsAndBadFieldsNamingTheField() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h, popupOrigins: [])
            try await h.withService { browser in
                let cases: [(json: String, field: String)] = [
                    (#"{"reference":"a","return_url":"https://evil.example/onboarding/done"}"#, "return_url"),
                    (#"{"reference":"a","return_url":"https://acme.example/onboarding/../admin"}"#, "return_url"),
                    (#"{"reference":"a","return_url":"http://acme.example/onboarding/done"}"#, "return_url"),
                    (#"{"reference":"a","return_url":"https://acme.example/other"}"#, "return_url"),
                    (#"{"reference":5,"return_url":"https://acme.example/onboarding/done"}"#, "reference"),
                    (#"{"return_url":"https://acme.example/onboarding/done"}"#, "reference"),
                    (#"{"reference":"a","return_url":"https://acme.example/onboarding/done","scopes":["NOT_A_SCOPE"]}"#, "scopes"),
                    (#"{"reference":"a","return_url":"https://acme.example/onboarding/done","expires_in":5}"#, "expires_in"),
                    (#"{"reference":"a","return_url":"https://acme.example/onboarding/done","mode":"popup"}"#, "mode"),
                    (#"{"reference":"a","return_url":"https://acme.example/onboarding/done","extra":1}"#, "extra"),
                ]
                for (json, field) in cases {
                    let answer = try await partner.call(browser, .post, "/onboarding-links", json: json)
                    #expect(answer.status == .badRequest, "\(json)")
                    let error = try answer.apiError()
                    #expect((error["field"] as? String)?.hasPrefix(field) == true, "\(json) → \(error)")
                }
                let malformed = try await partner.call(browser, .post, "/onboarding-links", json: "{not json")
                #expect(malformed.status == .badRequest && malformed.errorCode == "invalid_request")
                let big = #"{"reference":""# + String(repeating: "a", count: 70_000) + #"","return_url":"x"}"#
                #expect(try await partner.call(browser, .post, "/onboarding-links", json: big).status == .contentTooLarge)
                let form = try await partner.call(
                    browser,
                    .post,
                    "/onboarding-links",
                    json: "reference=a",
                    headers: [.contentType: "application/x-www-form-urlencoded"]
                )
                #expect(form.status == .unsupportedMediaType)
                #expect(try await h.database().auditEvents().filter { $0.action == .linkCreated }.isEmpty, "no link was made")
            }
        }
    }

    @Test func anIdempotencyKeyReplaysTheFirstAnswerAndRefusesAnotherRequest() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let json = #"{"reference":"a","return_url":"https://acme.example/onboarding/done"}"#
                let key: HTTPFields = [.init("Idempotency-Key")!: "retry-1"]
                let first = try await partner.call(browser, .post, "/onboarding-links", json: json, headers: key)
                let second = try await partner.call(browser, .post, "/onboarding-links", json: json, headers: key)
                #expect(first.status == .created && second.status == .created)
                #expect(try first.jsonObject()["id"] as? String == (try second.jsonObject()["id"] as? String))
                #expect(second.headers[.init("Idempotent-Replayed")!] == "true")
                let other = try await partner.call(
                    browser,
                    .post,
                    "/onboarding-links",
                    json: #"{"reference":"b","return_url":"https://acme.example/onboarding/done"}"#,
                    headers: key
                )
                #expect(other.status == .conflict && other.errorCode == "idempotency_key_reused")
                #expect(try await h.database().auditEvents().filter { $0.action == .linkCreated }.count == 1)
            }
        }
    }

    @Test func aPartnerSeesOnlyItsOwnConnections() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h)
            let other = try await TestPartner.add(h, name: "globex", displayName: "Globex", returnURLs: ["https://globex.example/"])
            try await h.withService { browser in
                let link = try await acme.createLink(browser, reference: "r1")
                let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
                _ = try await browser.get(try await h.consent(at: try #require(start.headers[.location]), merchantId: "MLSANDBOXCAFE"))
                _ = try await h.connect(Browser(client: browser.client), merchantId: "MLSANDBOXBIKE")

                for path in ["/connections/MLSANDBOXCAFE", "/connections/MLSANDBOXBIKE", "/connections/MLNONE"] {
                    let answer = try await other.call(browser, .get, path)
                    #expect(answer.status == .notFound && answer.errorCode == "not_found", "\(path)")
                }
                #expect(try await other.call(browser, .delete, "/connections/MLSANDBOXCAFE").status == .notFound)
                #expect(try await other.call(browser, .post, "/connections/MLSANDBOXCAFE/access-token").status == .notFound)
                #expect(try await other.call(browser, .get, "/connections").jsonObject()["data"] as? [Any] == nil ? false : true)
                let listed = try await other.call(browser, .get, "/connections").jsonObject()["data"] as? [[String: Any]]
                #expect(listed?.isEmpty == true)
                let mine = try await acme.call(browser, .get, "/connections?reference=r1").jsonObject()["data"] as? [[String: Any]]
                #expect(mine?.map { $0["merchant_id"] as? String } == ["MLSANDBOXCAFE"])
                #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
            }
        }
    }

    @Test func anAccessTokenIsFreshEnoughAndAuditedWithoutTheToken() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                _ = try await partner.connect(h, browser, merchantId: "MLSANDBOXCAFE")

                let first = try await partner.call(browser, .post, "/connections/MLSANDBOXCAFE/access-token", json: #"{"min_valid_for":60}"#)
                #expect(first.status == .ok)
                let token = try #require(try first.jsonObject()["access_token"] as? String)
                let status = try await h.square.execute(uri: "/oauth2/token/status", method: .post, headers: [.authorization: "Bearer \(token)"])
                #expect(status.status == .ok, "Square accepts the token")

                // 29 days on, for Square and for us: the token has a day left, less than the two days asked for.
                h.clock.advance(by: 29 * 86_400)
                h.emulator.advanceClock(by: 29 * 86_400)
                let refreshes = h.emulator.callCount(path: "/oauth2/token")
                let longer = try await partner.call(browser, .post, "/connections/MLSANDBOXCAFE/access-token", json: #"{"min_valid_for":172800}"#)
                #expect(longer.status == .ok)
                #expect(h.emulator.callCount(path: "/oauth2/token") == refreshes + 1, "a token expiring too soon is refreshed first")
                let fresh = try #require(try longer.jsonObject()["access_token"] as? String)
                #expect(fresh != token)

                let audit = try await h.database().auditEvents().filter { $0.action == .tokenIssued }
                #expect(audit.count == 2 && audit.allSatisfy { $0.actor == .partner(partner.record.id) })
                #expect(!audit.contains { $0.detail.contains(token) || $0.detail.contains(fresh) })
                #expect(!h.logs.all.joined().contains(token) && !h.logs.all.joined().contains(fresh), "no token in the logs")
            }
        }
    }

    @Test func deletingDisconnectsOnceAndAgainIsHarmless() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                _ = try await partner.connect(h, browser, merchantId: "MLSANDBOXCAFE")
                let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                    for _ in 0..<5 { group.addTask { try await partner.call(browser, .delete, "/connections/MLSANDBOXCAFE") } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(answers.allSatisfy { $0.status == .ok })
                #expect(try answers.allSatisfy { try $0.jsonObject()["status"] as? String == "revoked" })
                #expect(h.emulator.callCount(path: "/oauth2/revoke") == 1, "one RevokeToken call")
                #expect(!h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
                let revoked = try await h.database().auditEvents().filter { $0.action == .connectionRevoked }
                #expect(revoked.map(\.actor) == [.partner(partner.record.id)])
                let token = try await partner.call(browser, .post, "/connections/MLSANDBOXCAFE/access-token")
                #expect(token.status == .conflict, "\(token.html)")
                #expect(token.status == .conflict && token.errorCode == "connection_not_usable")
            }
        }
    }

    @Test func expiredAndUnknownLinksShowAClearPage() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let link = try await partner.createLink(browser, extra: #","expires_in":60"#)
                let path = try TestPartner.path(of: link)
                h.clock.advance(by: 61)
                let expired = try await browser.get(path)
                #expect(expired.status == .gone && expired.html.contains("expired") && expired.html.contains("Acme Payroll"))
                let unknown = try await browser.get("/connect/lnk_doesnotexist")
                #expect(unknown.status == .notFound && unknown.html.contains("not valid"))
                let unknownEndpoint = try await partner.call(browser, .get, "/nothing-here")
                #expect(unknownEndpoint.status == .notFound && unknownEndpoint.errorCode == "not_found")
            }
        }
    }

    @Test func popupModeEndsOnAPageThatPostsToTheAllowedOriginsOnly() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let link = try await partner.createLink(browser, mode: "popup")
                let start = try await browser.pressConnect(link: try #require(link["url"] as? String))
                let end = try await browser.get(try await h.consent(at: try #require(start.headers[.location]), merchantId: "MLSANDBOXBOOK"))
                #expect(end.status == .ok)
                #expect(end.html.contains("src=\"/assets/popup-result.js\""))
                #expect(end.html.contains("data-origins=\"[&quot;https://acme.example&quot;]\""))
                let returnURL = try #require(end.html.firstMatch(of: /data-return-url="([^"]+)"/)?.output.1)
                let values = try partner.verify(String(returnURL).replacingOccurrences(of: "&amp;", with: "&"))
                #expect(values["status"] == "connected" && values["merchant_id"] == "MLSANDBOXBOOK")
                #expect(end.headers[.init("Cross-Origin-Opener-Policy")!] == "unsafe-none", "the popup keeps its opener")
            }
        }
    }
}
