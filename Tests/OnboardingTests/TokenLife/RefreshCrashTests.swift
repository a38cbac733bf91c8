import Foundation
import SquareEmulator
import Synchronization
import Testing

@testable import Onboarding

/// A real `square-onboard refresh` process is killed after Square processed its refresh and before it stored the answer.
@Suite("Refresh interrupted by a killed process", .serialized)
struct RefreshCrashTests {
    @Test func pkceKilledAfterSquareAnsweredLeavesTheRowWholeAndEndsInNeedsReauthWithTheReason() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let before = try await harness.stored("MLSANDBOXCAFE")
            let tokensBefore = try await harness.tokens("MLSANDBOXCAFE")

            try await killRefreshAfterSquareProcessedIt(harness)

            let after = try await harness.stored("MLSANDBOXCAFE")
            #expect(after.sealedAccessToken == before.sealedAccessToken, "old values, not half of the new ones")
            #expect(after.sealedRefreshToken == before.sealedRefreshToken)
            #expect(after.expiresAt == before.expiresAt)
            #expect(after.status == .active)
            #expect(try await harness.tokens("MLSANDBOXCAFE") == tokensBefore, "every sealed value still opens")
            let lease = try #require(after.refreshLeaseUntil, "the dead worker's lease is still on the row")

            let services = try await harness.services()
            #expect(
                await services.refresher.refresh(connectionId: after.id, actor: .admin("test"), force: true) == .busy,
                "nobody refreshes while the lease holds"
            )
            harness.advanceTime(seconds: lease.timeIntervalSince(harness.clock.appClock.now()) + 1)
            let outcomes = Mutex<[TokenRefresher.Outcome]>([])
            let report = try await services.refresher.runPass(
                merchantId: "MLSANDBOXCAFE",
                onResult: { _, outcome in outcomes.withLock { $0.append(outcome) } }
            )
            #expect(report.needsReauth == 1)
            let seen = outcomes.withLock { $0 }
            guard case .needsReauth(let reason) = seen.first, seen.count == 1 else {
                Issue.record("expected one needs_reauth, got \(seen)")
                return
            }
            #expect(reason.contains("earlier refresh attempt did not finish"), "the reason says what happened: \(reason)")
            let final = try await harness.stored("MLSANDBOXCAFE")
            #expect(final.status == .needsReauth)
            #expect(final.lastError == reason)
            #expect(try await harness.database().auditEvents().contains { $0.action.rawValue == "token.needs_reauth" })
        }
    }

    @Test func codeFlowKilledAfterSquareAnsweredIsRefreshedByTheNextPass() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"], ["square.flow": "code"])
            let before = try await harness.tokens("MLSANDBOXCAFE")
            try await killRefreshAfterSquareProcessedIt(harness, flow: "code")
            #expect(try await harness.tokens("MLSANDBOXCAFE") == before)

            let services = try await harness.services(["square.flow": "code"])
            let lease = try #require(try await harness.stored("MLSANDBOXCAFE").refreshLeaseUntil)
            harness.advanceTime(seconds: lease.timeIntervalSince(harness.clock.appClock.now()) + 1)
            #expect(try await services.refresher.runPass(merchantId: "MLSANDBOXCAFE").refreshed == 1)
            let after = try await harness.tokens("MLSANDBOXCAFE")
            #expect(after.refresh == before.refresh)
            #expect(after.access != before.access)
            #expect(try await harness.stored("MLSANDBOXCAFE").status == .active)
        }
    }

    /// Runs `square-onboard refresh --merchant MLSANDBOXCAFE` and SIGKILLs it while Square's answer is held back.
    func killRefreshAfterSquareProcessedIt(_ harness: ServiceHarness, flow: String = "pkce") async throws {
        let executable = try BuiltExecutable.path()
        // Square does the refresh at once (the old refresh token is spent) and holds the answer back for 4 s.
        harness.emulator.inject(.latency(milliseconds: 4000, path: "/oauth2/token", afterProcessing: true))
        let callsBefore = harness.tokenCalls
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["refresh", "--merchant", "MLSANDBOXCAFE"]
        process.currentDirectoryURL = URL(fileURLWithPath: harness.dataDirectory)
        process.environment = [
            "SQUARE_ENVIRONMENT": "http://127.0.0.1:\(harness.emulatorPort)", "SQUARE_CLIENT_ID": ServiceHarness.clientId,
            "SQUARE_CLIENT_SECRET": ServiceHarness.clientSecret, "SQUARE_FLOW": flow, "SQUARE_TIMEOUT_SECONDS": "60",
            "DATA_DIRECTORY": harness.dataDirectory, "ONBOARD_ENCRYPTION_KEYS": harness.keys,
            "REFRESH_LEASE_SECONDS": "300", "PATH": "/usr/bin:/bin",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(15)
        while harness.tokenCalls == callsBefore && ContinuousClock.now < deadline && process.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(harness.tokenCalls == callsBefore + 1, "the refresh reached Square")
        // Square has done the refresh (the old refresh token is spent) once it holds the answer back.
        while harness.emulator.answersHeldBack(path: "/oauth2/token") == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        try #require(harness.emulator.answersHeldBack(path: "/oauth2/token") == 1, "Square refreshed and holds its answer back")
        #expect(process.isRunning, "still waiting for Square's answer")
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(process.terminationReason == .uncaughtSignal)
        harness.emulator.clearFaults()
    }
}
