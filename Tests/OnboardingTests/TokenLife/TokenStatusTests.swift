import Foundation
import ServiceLifecycle
import SquareEmulator
import Testing

@testable import Onboarding

/// RetrieveTokenStatus checks, the periodic sweep, and the background service's shutdown.
@Suite("Token status checks and the token-life service")
struct TokenStatusTests {
    @Test func aValidTokenIsRecordedAsChecked() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let services = try await harness.services()
            let id = try await harness.stored("MLSANDBOXCAFE").id
            harness.advanceTime(seconds: 60)
            let outcome = await services.checker.check(connectionId: id, actor: .admin("alice"))
            guard case .valid(let scopes, let expiresAt) = outcome else {
                Issue.record("expected valid, got \(outcome)")
                return
            }
            #expect(scopes == ["MERCHANT_PROFILE_READ", "PAYMENTS_READ", "ORDERS_WRITE"])
            #expect(expiresAt != nil)
            let checkedAt = try #require(try await harness.stored("MLSANDBOXCAFE").lastCheckedAt)
            #expect(abs(checkedAt.timeIntervalSince(harness.clock.appClock.now())) < 5)
        }
    }

    @Test func anExpiredAccessTokenIsMarkedExpiredAndTheNextPassRenewsIt() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            // A refresh age longer than the token's life, so only the status check can notice.
            let services = try await harness.services(["refresh.ageHours": "\(29 * 24)", "refresh.marginHours": "1"])
            let id = try await harness.stored("MLSANDBOXCAFE").id
            harness.advanceTime(days: 30.5)
            #expect(await services.checker.check(connectionId: id, actor: .system) == .expired)
            #expect(try await harness.stored("MLSANDBOXCAFE").status == .expired)

            #expect(try await services.refresher.runPass().refreshed == 1)
            #expect(try await harness.stored("MLSANDBOXCAFE").status == .active)
            let outcome = await services.checker.check(connectionId: id, actor: .system)
            guard case .valid = outcome else {
                Issue.record("the renewed token works, got \(outcome)")
                return
            }
        }
    }

    @Test func aTokenRevokedAtSquareIsMarkedRevoked() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let services = try await harness.services()
            let id = try await harness.stored("MLSANDBOXCAFE").id
            #expect(harness.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE"))
            #expect(await services.checker.check(connectionId: id, actor: .system) == .revoked)
            let connection = try await harness.stored("MLSANDBOXCAFE")
            #expect(connection.status == .revoked)
            #expect(connection.revokedBy == "square")
            #expect(connection.sealedAccessToken == nil && connection.sealedRefreshToken == nil)
        }
    }

    @Test func squareBeingDownChangesNothing() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let services = try await harness.services()
            let before = try await harness.stored("MLSANDBOXCAFE")
            harness.emulator.inject(.status(503, path: "/oauth2/token/status"))
            let outcome = await services.checker.check(connectionId: before.id, actor: .system)
            guard case .unknown(let reason) = outcome else {
                Issue.record("expected unknown, got \(outcome)")
                return
            }
            #expect(reason.contains("HTTP 503"))
            let after = try await harness.stored("MLSANDBOXCAFE")
            #expect(after.status == .active && after.lastCheckedAt == before.lastCheckedAt)
        }
    }

    @Test func theSweepChecksOnlyConnectionsNotCheckedWithinTheInterval() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            harness.advanceTime(days: 0.5)
            try await harness.connectMerchants(["MLSANDBOXBIKE"])
            let services = try await harness.services(["status.intervalHours": "24"])
            harness.advanceTime(days: 0.6)
            let calls = harness.emulator.callCount(path: "/oauth2/token/status")
            let (report, merchants) = try await services.checker.sweepMerchants()
            #expect(merchants == ["MLSANDBOXCAFE"], "checked at connect 26.4 h ago; the other 14.4 h ago")
            #expect(report.chosen == 1 && report.valid == 1)
            #expect(harness.emulator.callCount(path: "/oauth2/token/status") == calls + 1)
            #expect(try await services.checker.sweepMerchants().merchants.isEmpty, "just checked")
        }
    }

    @Test func gracefulShutdownWaitsForARefreshInFlight() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            harness.advanceTime(days: 8)
            let services = try await harness.services()
            let before = try await harness.tokens("MLSANDBOXCAFE")
            harness.emulator.inject(.latency(milliseconds: 1500, path: "/oauth2/token"))
            let calls = harness.tokenCalls
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        TokenLifeService(
                            refresher: services.refresher,
                            checker: services.checker,
                            retention: services.retention,
                            logger: services.logger
                        )
                    ],
                    logger: services.logger
                )
            )
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                while harness.tokenCalls == calls { try await Task.sleep(for: .milliseconds(10)) }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(await services.refresher.refreshesInFlight == 0)
            let after = try await harness.stored("MLSANDBOXCAFE")
            #expect(try await harness.tokens("MLSANDBOXCAFE").access != before.access, "the refresh in flight was finished and stored")
            #expect(after.refreshLeaseUntil == nil)
        }
    }
}
