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
}
