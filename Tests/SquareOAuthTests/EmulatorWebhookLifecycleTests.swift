import Foundation
import SquareEmulator
import TestSupport
import Testing

@Suite("The emulator's webhook deliveries end when the emulator stops")
struct EmulatorWebhookLifecycleTests {
    typealias H = EmulatorHarness
    static let signatureKey = "whsec-emulator-lifecycle-key-81ad"

    /// Polls `condition` every 10 ms; fails the test if it is still false after `timeout`.
    func waitUntil(
        timeout: Duration = .seconds(10),
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition still false after \(timeout)", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func stoppingTheEmulatorEndsItsPendingRetries() async throws {
        let receiver = WebhookReceiver(statuses: Array(repeating: 503, count: 9))
        try await receiver.run { url in
            let emulator = Box<SquareEmulator>()
            try await H.run { h in
                emulator.value = h.emulator
                _ = try await h.connectWithSecret()
                h.emulator.setWebhookSubscription(
                    EmulatorWebhookSubscription(notificationURL: url, signatureKey: Self.signatureKey, retryBackoff: .seconds(5))
                )
                h.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE")
                // The first attempt got its 503: the retry now waits 5 s, time enough to stop even on a loaded machine.
                try await waitUntil { h.emulator.webhookDeliveries.first?.attempts == 1 }
                // Active again, so that a revocation after the stop has something to end.
                _ = try await h.connectWithSecret()
            }
            let stopped = ContinuousClock.now
            let sentBeforeStop = receiver.received.count
            // Wait past the moment the retry was due.
            let retryDue = (receiver.received.first?.at ?? stopped) + .seconds(6)
            if retryDue > ContinuousClock.now { try await Task.sleep(until: retryDue) }
            #expect(receiver.received.count == sentBeforeStop, "no attempt after the emulator stopped")
            #expect(receiver.received.allSatisfy { $0.at < stopped })

            let stoppedEmulator = try #require(emulator.value)
            let pending = try #require(stoppedEmulator.webhookDeliveries.first)
            #expect(!pending.delivered && pending.attempts == sentBeforeStop && pending.attempts < 3)
            #expect(pending.lastStatus == 503)
            #expect(pending.lastError?.contains("emulator stopped") == true)

            // A revocation on a stopped emulator is logged as abandoned and never sent.
            #expect(stoppedEmulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE"))
            let log = await stoppedEmulator.waitForWebhookDeliveries(count: 2, timeout: .seconds(10))
            #expect(log.count == 2)
            #expect(log.last.map { !$0.delivered && $0.attempts == 0 && $0.lastError?.contains("emulator stopped") == true } == true)
            try await Task.sleep(for: .milliseconds(200))
            #expect(receiver.received.count == sentBeforeStop)
        }
    }

    @Test func stoppingTheEmulatorCutsAnAttemptInFlight() async throws {
        let receiver = WebhookReceiver(holdingAnswers: true)
        try await receiver.run { url in
            let emulator = Box<SquareEmulator>()
            let stopping = Box<ContinuousClock.Instant>()
            try await H.run { h in
                emulator.value = h.emulator
                _ = try await h.connectWithSecret()
                h.emulator.setWebhookSubscription(
                    EmulatorWebhookSubscription(
                        notificationURL: url,
                        signatureKey: Self.signatureKey,
                        retryBackoff: .milliseconds(20),
                        attemptTimeout: .seconds(60)
                    )
                )
                h.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE")
                // The receiver holds its answer: the attempt is in flight when the emulator stops.
                try await waitUntil { receiver.received.count == 1 }
                stopping.value = .now
            }
            let stopTook = ContinuousClock.now - (try #require(stopping.value))
            // Far below the attempt's 60 s timeout, and far above what a loaded machine needs to stop (5.6 s seen once).
            #expect(stopTook < .seconds(30), "the stop does not wait out the attempt's 60 s timeout")

            // The receiver would now answer 200, but the attempt is gone and no retry follows.
            receiver.release()
            try await Task.sleep(for: .milliseconds(500))
            #expect(receiver.received.count == 1)
            let delivery = try #require(emulator.value?.webhookDeliveries.first)
            #expect(!delivery.delivered && delivery.attempts == 1 && delivery.lastStatus == nil)
            #expect(delivery.lastError?.contains("emulator stopped") == true)
        }
    }
}
