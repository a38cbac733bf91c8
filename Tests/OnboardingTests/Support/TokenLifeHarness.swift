import Foundation
import Logging
import OnboardCrypto
import SquareOAuth
import TestSupport
import Testing

@testable import Onboarding

extension ServiceHarness {
    /// The service's parts on the harness's database, as a second worker or the CLI would build them.
    func services(_ overrides: [String: String] = [:]) async throws -> AppServices {
        let logger = Logger(label: "token-life") { _ in CollectingLogHandler(collector: logs) }
        return try await AppServices.open(configuration: configuration(overrides), clock: clock.appClock, logger: logger)
    }

    /// Moves our clock and Square's together.
    func advanceTime(days: Double = 0, seconds: TimeInterval = 0) {
        let total = days * 86_400 + seconds
        clock.advance(by: total)
        emulator.advanceClock(by: total)
    }

    /// Connects each merchant through the real flow (PKCE unless `overrides` say otherwise).
    func connectMerchants(_ merchantIds: [String], _ overrides: [String: String] = [:]) async throws {
        for merchantId in merchantIds {
            try await withService(overrides) { browser in
                let answer = try await connect(browser, merchantId: merchantId)
                #expect(answer.status == .seeOther, "connecting \(merchantId)")
            }
        }
    }

    /// The stored connection for a merchant, read fresh.
    func stored(_ merchantId: String) async throws -> ConnectionRecord {
        try #require(try await database().connection(environment: "custom", merchantId: merchantId))
    }

    /// The plaintext tokens of a stored connection.
    func tokens(_ merchantId: String) async throws -> (access: String?, refresh: String?) {
        let connection = try await stored(merchantId)
        let vault = TokenVault(keyRing: try KeyRing(parsing: keys))
        return (
            try connection.sealedAccessToken.map {
                try vault.openAccessToken($0, environment: connection.environment, merchantId: merchantId).value
            },
            try connection.sealedRefreshToken.map {
                try vault.openRefreshToken($0, environment: connection.environment, merchantId: merchantId).value
            }
        )
    }

    /// Square's answer to a status check with this access token, straight from the emulator.
    func squareAccepts(accessToken: String) async -> Bool {
        let client = SquareOAuthClient(
            configuration: .init(environment: .custom(URL(string: "http://127.0.0.1:\(emulatorPort)")!)),
            logger: Logger(label: "check")
        )
        return (try? await client.retrieveTokenStatus(accessToken: Secret(accessToken))) != nil
    }

    var tokenCalls: Int { emulator.callCount(path: "/oauth2/token") }
}

extension TokenStatusChecker {
    /// One sweep, with the merchant ids it checked in the order their checks finished.
    func sweepMerchants(shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> (report: StatusSweepReport, merchants: [String]) {
        let merchants = LogCollector()
        let report = try await sweep(shouldStop: shouldStop, onResult: { id, merchant, _ in merchants.append(merchant ?? "#\(id)") })
        return (report, merchants.all)
    }
}
