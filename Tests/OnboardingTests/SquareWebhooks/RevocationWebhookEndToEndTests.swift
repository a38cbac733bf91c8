import Foundation
import Hummingbird
import ServiceLifecycle
import SquareEmulator
import Testing

@testable import Onboarding

/// The whole path: a merchant revokes on Square's side, the emulator sends the signed webhook, the service revokes.
@Suite("Revocation webhook from the emulator to the service")
struct RevocationWebhookEndToEndTests {
    @Test func aMerchantRevokingAtSquareEndsTheConnectionThroughTheWebhook() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            try await harness.runLiveWithSquareWebhooks { overrides in
                #expect(harness.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE"))
                let deliveries = await harness.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(deliveries.first?.delivered == true)
                #expect(deliveries.first?.lastStatus == 200)
                #expect(deliveries.first?.attempts == 1)
            }
            let cafe = try await harness.stored("MLSANDBOXCAFE")
            #expect(cafe.status == .revoked)
            #expect(cafe.revokedBy == "merchant")
            #expect(cafe.sealedRefreshToken == nil)
            #expect(try await harness.stored("MLSANDBOXBIKE").status == .active)
        }
    }

    @Test func ourOwnDisconnectIsRecordedOnceAndSquaresWebhookConfirmsIt() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            try await harness.runLiveWithSquareWebhooks { overrides in
                let merchant = try await harness.services(overrides).onboarding
                let ended = try await merchant.disconnect(try await harness.stored("MLSANDBOXCAFE"), actor: .merchant)
                #expect(ended.status == .revoked)
                let deliveries = await harness.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(deliveries.first?.delivered == true, "Square's webhook for our own revoke arrived")
            }
            let audit = try await harness.database().auditEvents(merchantId: "MLSANDBOXCAFE")
            #expect(audit.filter { $0.action == .connectionRevoked }.map(\.actor) == [.merchant], "one revocation, ours")
            let confirmation = try #require(audit.first { $0.action == .revocationConfirmed })
            #expect(confirmation.actor == .square && confirmation.detail.contains("revoked by application"))
            #expect(try await harness.stored("MLSANDBOXCAFE").revokedBy == "merchant")
        }
    }

    @Test func aWebhookSignedWithAnotherKeyIsRefusedAndSquareRetries() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let port = try await freeLoopbackPort()
            let url = "http://127.0.0.1:\(port)/webhooks/square"
            let overrides = ["http.port": "\(port)", "square.webhookSignatureKey": "the-real-key", "square.webhookUrl": url]
            try await harness.runLive(overrides) {
                harness.emulator.setWebhookSubscription(
                    EmulatorWebhookSubscription(notificationURL: url, signatureKey: "an-old-key", retryBackoff: .milliseconds(20))
                )
                #expect(harness.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE"))
                let deliveries = await harness.emulator.waitForWebhookDeliveries(count: 1, timeout: .seconds(10))
                #expect(deliveries.first?.delivered == false)
                #expect(deliveries.first?.lastStatus == 401)
                #expect(deliveries.first?.attempts == EmulatorWebhookSubscription.maxAttempts)
            }
            #expect(try await harness.stored("MLSANDBOXCAFE").status == .active, "a wrongly signed event changes nothing")
        }
    }
}

extension ServiceHarness {
    /// Runs the service live with the emulator's revocation webhooks subscribed to it; `body` gets the service's settings.
    func runLiveWithSquareWebhooks(_ body: @Sendable ([String: String]) async throws -> Void) async throws {
        let port = try await freeLoopbackPort()
        let url = "http://127.0.0.1:\(port)/webhooks/square"
        let key = "demo-signature-key-for-this-test"
        let overrides = ["http.port": "\(port)", "square.webhookSignatureKey": key, "square.webhookUrl": url]
        try await runLive(overrides) {
            emulator.setWebhookSubscription(
                EmulatorWebhookSubscription(notificationURL: url, signatureKey: key, retryBackoff: .milliseconds(50))
            )
            try await body(overrides)
        }
    }

    /// Runs the service on the real port `overrides["http.port"]` names, runs `body`, then shuts it down gracefully.
    func runLive(_ overrides: [String: String], _ body: @Sendable () async throws -> Void) async throws {
        let services = try await services(overrides)
        let (listening, ready) = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(services: services) { port in ready.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: services.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // A service that cannot listen (another test took the port) ends the stream, so its error is thrown
                // below instead of this waiting for a port forever.
                defer { ready.finish() }
                try await group.run()
            }
            var listens = false
            for await _ in listening {
                listens = true
                break
            }
            guard listens else {
                try await tasks.waitForAll()
                throw WebDriverError.notStarted("the service on port \(overrides["http.port"] ?? "?") did not start")
            }
            do {
                try await body()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
