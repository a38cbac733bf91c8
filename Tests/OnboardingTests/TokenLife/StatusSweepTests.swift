import Foundation
import SquareEmulator
import TestSupport
import Testing

@testable import Onboarding

/// The status sweep against the emulator: each due connection checked once, Square's answer recorded, stop honoured.
@Suite("Status sweep")
struct StatusSweepTests {
    /// Three merchants connected through the real flow (each checked at connect, CAFE first), all due two days later;
    /// one check at a time, so the order is the due set's: least recently checked first.
    func connectAndWait(_ harness: ServiceHarness) async throws -> AppServices {
        try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE", "MLSANDBOXBOOK"])
        harness.advanceTime(days: 2)
        return try await harness.services(["refresh.concurrency": "1", "status.intervalHours": "24"])
    }

    @Test func eachDueConnectionIsCheckedOnceAndSquaresAnswerRecorded() async throws {
        try await ServiceHarness.run { harness in
            let services = try await connectAndWait(harness)
            let before = try await harness.stored("MLSANDBOXCAFE").lastCheckedAt
            #expect(harness.emulator.revokeAsMerchant(merchantId: "MLSANDBOXBIKE"))
            // Square does not answer CAFE's check: it stays due, and the sweep goes on past it instead of asking again.
            harness.emulator.inject(.status(503, path: "/oauth2/token/status"))
            let calls = harness.emulator.callCount(path: "/oauth2/token/status")
            let (report, merchants) = try await services.checker.sweepMerchants()
            #expect(merchants == ["MLSANDBOXCAFE", "MLSANDBOXBIKE", "MLSANDBOXBOOK"])
            #expect(harness.emulator.callCount(path: "/oauth2/token/status") == calls + 3, "one call per connection")
            #expect(report == StatusSweepReport(chosen: 3, valid: 1, revoked: 1, unknown: 1))
            #expect(report.summary == "3 due, 1 valid, 0 expired, 1 revoked, 0 need re-authorization, 1 not answered, 0 skipped")

            let cafe = try await harness.stored("MLSANDBOXCAFE")
            #expect(cafe.status == .active && cafe.lastCheckedAt == before, "an unanswered check changes nothing")
            let bike = try await harness.stored("MLSANDBOXBIKE")
            #expect(bike.status == .revoked && bike.revokedBy == "square" && bike.sealedAccessToken == nil)
            let book = try await harness.stored("MLSANDBOXBOOK")
            #expect(book.status == .active)
            #expect(abs(try #require(book.lastCheckedAt).timeIntervalSince(harness.clock.appClock.now())) < 5, "checked now")
            let events = try await harness.database().auditEvents(merchantId: "MLSANDBOXBOOK")
            #expect(!events.contains { $0.action == .tokenStatusChecked }, "a sweep audits changes, not every answer")

            // The next sweep finds only the one Square did not answer.
            let again = try await services.checker.sweepMerchants()
            #expect(again.merchants == ["MLSANDBOXCAFE"] && again.report.valid == 1)
            #expect(try await harness.stored("MLSANDBOXCAFE").lastCheckedAt != before)
        }
    }

    @Test func aStopRequestEndsTheSweepBeforeTheNextCheck() async throws {
        try await ServiceHarness.run { harness in
            let services = try await connectAndWait(harness)
            let calls = harness.emulator.callCount(path: "/oauth2/token/status")
            let finished = LogCollector()
            let report = try await services.checker.sweep(
                shouldStop: { !finished.all.isEmpty },
                onResult: { _, merchant, _ in finished.append(merchant ?? "?") }
            )
            #expect(finished.all == ["MLSANDBOXCAFE"])
            #expect(report.stoppedEarly && report.chosen == 3 && report.checked == 1)
            #expect(harness.emulator.callCount(path: "/oauth2/token/status") == calls + 1, "nothing started after the request")
            let cutoff = harness.clock.appClock.now().addingTimeInterval(-86_400)
            for merchant in ["MLSANDBOXBIKE", "MLSANDBOXBOOK"] {
                #expect(try #require(try await harness.stored(merchant).lastCheckedAt) < cutoff, "\(merchant) is still due")
            }
        }
    }

    @Test func checksRunAtMostTheConfiguredNumberAtOnce() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE", "MLSANDBOXBOOK"])
            harness.advanceTime(days: 2)
            let services = try await harness.services(["refresh.concurrency": "2", "square.timeoutSeconds": "10"])
            // Each check held long enough at Square that the second starts while the first waits, on any machine.
            harness.emulator.inject(.latency(milliseconds: 2000, path: "/oauth2/token/status", count: nil))
            let report = try await services.checker.sweep()
            #expect(report.valid == 3)
            // Counted at Square: two at once, never three (nor one at a time).
            #expect(harness.emulator.peakConcurrentCalls(path: "/oauth2/token/status") == 2)
        }
    }
}
