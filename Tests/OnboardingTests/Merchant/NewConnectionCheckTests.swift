import Foundation
import SquareEmulator
import Testing

@testable import Onboarding

/// The granted scopes: RetrieveTokenStatus runs after the callback has answered, and its result is still recorded.
@Suite("New connections' status checks, off the merchant's path")
struct NewConnectionCheckTests {
    typealias H = ServiceHarness
    static let requested = "MERCHANT_PROFILE_READ PAYMENTS_READ ORDERS_WRITE"

    @Test func theMerchantHasTheirAnswerBeforeSquareConfirmsTheScopesAndTheConfirmationIsRecorded() async throws {
        try await H.run { h in
            h.emulator.inject(.latency(milliseconds: 1500, path: "/oauth2/token/status"))
            try await h.withService(["square.timeoutSeconds": "10"]) { browser in
                let callback = try await h.startAndConsent(browser)
                let answer = try await browser.get(callback)
                #expect(answer.status == .seeOther && answer.headers[.location] == "/connection?connected=1")
                let stored = try await h.stored("MLSANDBOXCAFE")
                #expect(stored.status == .active && stored.scopes == Self.requested)
                #expect(stored.lastCheckedAt == nil, "Square has not answered the status check yet")
                let pending = try await browser.get("/connection?connected=1")
                #expect(pending.html.contains(#"id="permissions-unconfirmed""#))
                #expect(pending.html.contains("Create and change orders"), "the requested permissions are shown meanwhile")

                try await h.waitForStatusCheck("MLSANDBOXCAFE")
                let checked = try await h.stored("MLSANDBOXCAFE")
                #expect(checked.scopes == Self.requested && checked.status == .active)
                #expect(h.emulator.callCount(path: "/oauth2/token/status") == 1)
                let confirmed = try await browser.get("/connection")
                #expect(!confirmed.html.contains(#"id="permissions-unconfirmed""#))
                #expect(confirmed.html.contains("Create and change orders"))
            }
        }
    }

    @Test func aFailingStatusCallDoesNotFailTheCallbackAndTheSweepCatchesUp() async throws {
        try await H.run { h in
            h.emulator.inject(.status(503, path: "/oauth2/token/status", count: nil))
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                let answer = try await browser.get(callback)
                #expect(answer.status == .seeOther && answer.headers[.location] == "/connection?connected=1")
                for _ in 0..<250 where h.emulator.callCount(path: "/oauth2/token/status") == 0 {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(h.emulator.callCount(path: "/oauth2/token/status") == 1, "the check was tried")
                let page = try await browser.get("/connection")
                #expect(page.status == .ok && page.html.contains(#"<span id="status" class="status ok">Connected</span>"#))
                #expect(page.html.contains(#"id="permissions-unconfirmed""#))
            }
            let stored = try await h.stored("MLSANDBOXCAFE")
            #expect(stored.status == .active && stored.lastCheckedAt == nil && stored.scopes == Self.requested)

            h.emulator.clearFaults()
            let services = try await h.services()
            let swept = try await services.checker.sweepMerchants()
            #expect(swept.merchants == ["MLSANDBOXCAFE"], "a connection never checked is due")
            let checked = try await h.stored("MLSANDBOXCAFE")
            #expect(checked.lastCheckedAt != nil)
        }
    }

    @Test func aGracefulShutdownFinishesTheQueuedChecks() async throws {
        try await H.run { h in
            h.emulator.inject(.latency(milliseconds: 500, path: "/oauth2/token/status"))
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                let answer = try await browser.get(callback)
                #expect(answer.status == .seeOther)
            }
            let stored = try await h.stored("MLSANDBOXCAFE")
            #expect(stored.lastCheckedAt != nil, "the service stopped only after the check was recorded")
        }
    }

    @Test func aFullQueueLeavesTheCheckToTheSweep() async throws {
        try await H.run { h in
            let services = try await h.services()
            let checks = NewConnectionChecks(checker: services.checker, queueLimit: 2, concurrency: 1, logger: services.logger)
            #expect(checks.enqueue(connectionId: 1) && checks.enqueue(connectionId: 2))
            #expect(!checks.enqueue(connectionId: 3), "the third waits for the sweep")
        }
    }
}
