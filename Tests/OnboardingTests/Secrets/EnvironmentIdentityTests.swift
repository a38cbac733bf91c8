import Foundation
import GRDB
import OnboardCrypto
import Testing

@testable import Onboarding

/// A connection's identity is the environment's name, never the URL that reaches it.
@Suite("Environment identity")
struct EnvironmentIdentityTests {
    typealias H = ServiceHarness

    @Test func reachingTheSameSquareThroughAnotherURLFindsTheSameConnection() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE"])
            let first = try await h.stored("MLSANDBOXCAFE")
            #expect(first.environment == "custom", "the operator's name, not http://127.0.0.1:\(h.emulatorPort)")

            // A restart reaches the same emulator through localhost: the merchant reconnects to the same row.
            let throughLocalhost = ["square.environment": "http://localhost:\(h.emulatorPort)"] + SquareWebhookTests.settings
            try await h.withService(throughLocalhost) { browser in
                #expect(try await h.connect(browser).status == .seeOther)
                let rows = try await h.database().allConnections()
                #expect(rows.count == 1)
                #expect(rows.first?.id == first.id && rows.first?.sealedAccessToken != first.sealedAccessToken)

                let body = SquareWebhookTests.revocation(merchant: "MLSANDBOXCAFE")
                let answer = try await SquareWebhookTests.deliver(body, signature: SquareWebhookTests.sign(body), to: browser)
                #expect(String(buffer: answer.body) == #"{"result":"revoked"}"#, "Square's webhook finds the connection")
            }
            #expect(try await h.stored("MLSANDBOXCAFE").status == .revoked)
        }
    }

    @Test func anOperatorNamedEnvironmentKeepsItsConnectionsApart() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE"], ["square.environmentName": "staging-proxy"])
            let rows = try await h.database().allConnections()
            #expect(rows.map(\.environment) == ["staging-proxy"])
            #expect(throws: ConfigurationError.self) { try h.configuration(["square.environmentName": "http://x"]) }
        }
    }

    /// Rewrites every connection the way earlier versions stored it: under its base URL, tokens bound to that URL.
    static func makeLegacy(_ h: H, url: String, merchantId: String) throws {
        let vault = TokenVault(keyRing: try KeyRing(parsing: h.keys))
        try h.rawDatabase().write { db in
            let row = try #require(
                try Row.fetchOne(
                    db,
                    sql: "SELECT id, sealedAccessToken, sealedRefreshToken FROM connection WHERE merchantId = ?",
                    arguments: [merchantId]
                )
            )
            let access = try vault.openAccessToken(row["sealedAccessToken"], environment: "custom", merchantId: merchantId)
            let refresh = try vault.openRefreshToken(row["sealedRefreshToken"], environment: "custom", merchantId: merchantId)
            try db.execute(
                sql: "UPDATE connection SET environment = ?, sealedAccessToken = ?, sealedRefreshToken = ? WHERE id = ?",
                arguments: [
                    url, try vault.sealAccessToken(access, environment: url, merchantId: merchantId),
                    try vault.sealRefreshToken(refresh, environment: url, merchantId: merchantId), row["id"] as Int64,
                ]
            )
        }
    }

    @Test func connectionsStoredUnderAURLAreReKeyedAtStartAndKeepWorking() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            let before = (try await h.tokens("MLSANDBOXCAFE"), try await h.tokens("MLSANDBOXBIKE"))
            try Self.makeLegacy(h, url: "http://127.0.0.1:\(h.emulatorPort)", merchantId: "MLSANDBOXCAFE")
            try Self.makeLegacy(h, url: "http://127.0.0.1:9999", merchantId: "MLSANDBOXBIKE")
            #expect(try await h.database().connectionEnvironments().count == 2)

            let services = try await h.services()
            #expect(try await h.database().connectionEnvironments() == ["custom"])
            #expect(try await h.tokens("MLSANDBOXCAFE") == before.0, "the same tokens, sealed for the name")
            #expect(try await h.tokens("MLSANDBOXBIKE") == before.1)
            let rekeyed = try await h.database().auditEvents().filter { $0.action == .environmentRekeyed }
            #expect(rekeyed.count == 1 && rekeyed.first?.detail.contains("2 connection(s)") == true)

            let cafe = try await h.stored("MLSANDBOXCAFE")
            let outcome = await services.refresher.refresh(connectionId: cafe.id, actor: .cli, force: true)
            guard case .refreshed = outcome else {
                Issue.record("a re-keyed connection refreshes: \(outcome)")
                return
            }
            _ = try await h.services()
            #expect(try await h.database().auditEvents().filter { $0.action == .environmentRekeyed }.count == 1, "done once")
        }
    }

    @Test func twoRowsThatWouldBecomeOneStopTheStartAndChangeNothing() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE"])
            try Self.makeLegacy(h, url: "http://127.0.0.1:\(h.emulatorPort)", merchantId: "MLSANDBOXCAFE")
            // The same merchant also stored under another URL, as two earlier starts through two URLs left it.
            try await h.rawDatabase().write { db in
                try db.execute(
                    sql: """
                        INSERT INTO connection (environment, merchantId, tokenType, scopes, shortLived, flow, status,
                            connectedAt, refreshFailureCount, updatedAt)
                        SELECT 'http://localhost:1', merchantId, tokenType, scopes, shortLived, flow, status, connectedAt,
                            refreshFailureCount, updatedAt FROM connection
                        """
                )
            }
            let before = try await h.database().allConnections()

            let error = await #expect(throws: EnvironmentIdentityError.self) { _ = try await h.services() }
            let message = String(describing: try #require(error))
            #expect(message.contains("merchant MLSANDBOXCAFE, environment http://127.0.0.1:\(h.emulatorPort)"))
            #expect(message.contains("merchant MLSANDBOXCAFE, environment http://localhost:1"))
            #expect(message.contains("nothing is merged silently"))
            #expect(try await h.database().allConnections() == before)
        }
    }
}

extension Dictionary where Key == String, Value == String {
    static func + (left: Self, right: Self) -> Self { left.merging(right) { $1 } }
}
