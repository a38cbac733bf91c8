import Foundation
import Hummingbird
import HummingbirdTesting
import SquareEmulator
import Testing

@testable import Onboarding

@Suite("Disconnect: CSRF, merchant session, and a failing RevokeToken")
struct DisconnectTests {
    typealias H = ServiceHarness

    @Test func disconnectWithoutTheCSRFTokenIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                for form in [[:], ["csrf_token": "forged"]] {
                    let page = try await browser.post("/connection/disconnect", form: form)
                    #expect(page.status == .forbidden)
                    #expect(page.html.contains("This form has expired"))
                }
                #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
            }
        }
    }

    @Test func disconnectWithoutAMerchantSessionIsRejected() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                let csrf = try await browser.csrfToken(on: "/connection")
                let stranger = Browser(client: browser.client)
                let page = try await stranger.post("/connection/disconnect", form: ["csrf_token": csrf])
                #expect(page.status == .unauthorized)
                #expect(page.html.contains("No connection in this browser"))
                #expect(try await stranger.get("/connection").status == .unauthorized)
                #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
            }
        }
    }

    @Test func merchantSessionsExpireAfterAnHour() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                h.clock.advance(by: 3601)
                #expect(try await browser.get("/connection").status == .unauthorized)
            }
        }
    }

    @Test(arguments: [
        EmulatorFault.status(503, path: "/oauth2/revoke"), .closeConnection(path: "/oauth2/revoke"), .status(429, path: "/oauth2/revoke"),
    ])
    func failingRevokeKeepsTheConnectionAndSaysSo(fault: EmulatorFault) async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                let csrf = try await browser.csrfToken(on: "/connection")
                h.emulator.inject(fault)
                let page = try await browser.post("/connection/disconnect", form: ["csrf_token": csrf])
                #expect(page.status == .badGateway)
                #expect(page.html.contains("Square did not confirm the disconnect"))
                #expect(page.html.contains("Your connection is still active"))
                let connection = try #require(
                    try await h.database().connection(environment: "custom", merchantId: "MLSANDBOXCAFE")
                )
                #expect(connection.status == .active)
                #expect(connection.sealedAccessToken != nil)
                #expect(try await h.database().auditEvents().map(\.action.rawValue).last == "connection.disconnect_failed")
                // Pressing Disconnect again works.
                #expect(try await browser.post("/connection/disconnect", form: ["csrf_token": csrf]).status == .seeOther)
                #expect(!h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
            }
        }
    }

    @Test func disconnectAfterSquareAlreadyForgotTheMerchantStillCompletes() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                let csrf = try await browser.csrfToken(on: "/connection")
                h.emulator.inject(.status(404, path: "/oauth2/revoke"))
                #expect(try await browser.post("/connection/disconnect", form: ["csrf_token": csrf]).status == .seeOther)
                #expect(try await browser.get("/connection").html.contains("Disconnected"))
            }
        }
    }
    /// Puts the browser's connection into `status` the way the refresher or the status check would.
    static func move(_ h: H, to status: ConnectionStatus) async throws {
        let store = try h.database()
        let id = try await h.stored("MLSANDBOXCAFE").id
        let audit = AuditEventRecord(occurredAt: Date(), actor: .system, action: .tokenNeedsReauth, merchantId: "MLSANDBOXCAFE")
        switch status {
        case .needsReauth: try await store.markNeedsReauth(connectionId: id, reason: "refused", now: Date(), audit: audit)
        case .expired: try await store.markAccessTokenExpired(connectionId: id, now: Date(), audit: audit)
        default: Issue.record("not a state to move to: \(status)")
        }
        #expect(try await h.stored("MLSANDBOXCAFE").status == status)
    }

    @Test(arguments: [ConnectionStatus.needsReauth, .expired])
    func aConnectionThatNoLongerWorksCanStillBeDisconnected(status: ConnectionStatus) async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                try await Self.move(h, to: status)
                let page = try await browser.get("/connection")
                #expect(page.html.contains(#"id="disconnect""#), "the button is offered while a token is held")
                let csrf = try await browser.csrfToken(on: "/connection")
                #expect(try await browser.post("/connection/disconnect", form: ["csrf_token": csrf]).status == .seeOther)
                #expect(!h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"), "revoked at Square too")
                let ended = try await h.stored("MLSANDBOXCAFE")
                #expect(ended.status == .revoked && ended.sealedRefreshToken == nil)
                let audit = try #require(try await h.database().auditEvents().last)
                #expect(audit.action == .connectionRevoked && audit.detail == "was \(status.rawValue); revoked at Square")
            }
        }
    }

    @Test func aBrokenConnectionEndsHereEvenWhenSquareCannotBeReached() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                try await Self.move(h, to: .needsReauth)
                h.emulator.inject(.status(503, path: "/oauth2/revoke"))
                let csrf = try await browser.csrfToken(on: "/connection")
                #expect(try await browser.post("/connection/disconnect", form: ["csrf_token": csrf]).status == .seeOther)
                #expect(try await browser.get("/connection").html.contains("Disconnected"))
                let audit = try #require(try await h.database().auditEvents().last)
                #expect(audit.detail.hasPrefix("was needs_reauth; Square did not confirm (square=transient status=503); ended here"))
            }
        }
    }

    @Test func aBrokenConnectionEndsHereWithoutAClientSecret() async throws {
        try await H.run { h in
            try await h.withService(["square.clientSecret": ""]) { browser in
                _ = try await h.connect(browser)
                try await Self.move(h, to: .expired)
                let csrf = try await browser.csrfToken(on: "/connection")
                #expect(try await browser.post("/connection/disconnect", form: ["csrf_token": csrf]).status == .seeOther)
                #expect(try await h.stored("MLSANDBOXCAFE").status == .revoked)
                #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"), "Square could not be told")
                let audit = try #require(try await h.database().auditEvents().last)
                #expect(audit.detail == "was expired; not revoked at Square (no client secret configured); ended here")
            }
        }
    }

    @Test func fiftySimultaneousDisconnectsCallSquareOnceAndAuditOnce() async throws {
        try await H.run { h in
            try await h.withService { browser in
                _ = try await h.connect(browser)
                let csrf = try await browser.csrfToken(on: "/connection")
                h.emulator.inject(.latency(milliseconds: 200, path: "/oauth2/revoke", count: nil))
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<50 {
                        group.addTask { try await browser.post("/connection/disconnect", form: ["csrf_token": csrf]).status }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.count == 50 && statuses.allSatisfy { $0 == .seeOther }, "every answer is the normal redirect")
                #expect(h.emulator.callCount(path: "/oauth2/revoke") == 1, "one RevokeToken call")
                let revoked = try await h.database().auditEvents().filter { $0.action == .connectionRevoked }
                #expect(revoked.count == 1)
                #expect(try await browser.get("/connection").html.contains("Disconnected"))
            }
        }
    }

    @Test func twoWorkersDisconnectingAtOnceCallSquareOnce() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE"])
            h.emulator.inject(.latency(milliseconds: 300, path: "/oauth2/revoke", count: nil))
            // Two processes on one database: no shared memory, only the store's claim between them.
            let (first, second) = (try await h.services().onboarding, try await h.services().onboarding)
            let connection = try await h.stored("MLSANDBOXCAFE")
            async let a = first.disconnect(connection, actor: .merchant)
            async let b = second.disconnect(connection, actor: .admin("alice"))
            let (one, two) = try await (a, b)
            #expect(one.status == .revoked && two.status == .revoked)
            #expect(h.emulator.callCount(path: "/oauth2/revoke") == 1)
            #expect(try await h.database().auditEvents().filter { $0.action == .connectionRevoked }.count == 1)
            let stored = try await h.stored("MLSANDBOXCAFE")
            #expect(stored.revokeClaimOwner == nil && stored.revokeClaimUntil == nil, "the claim ends with the revocation")
        }
    }
}
