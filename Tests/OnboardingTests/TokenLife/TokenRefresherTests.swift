import Foundation
import SquareEmulator
import SquareOAuth
import TestSupport
import Testing

@testable import Onboarding

/// The refresher against the emulator with a moved clock: what is refreshed, when, and what is stored.
@Suite("Token refresh")
struct TokenRefresherTests {
    @Test func dueTokensAreRefreshedAndOthersAreNot() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            harness.advanceTime(days: 4)
            try await harness.connectMerchants(["MLSANDBOXBIKE"])
            let services = try await harness.services()

            let early = try await services.refresher.runPass()
            #expect(early.chosen == 0, "nothing is due 4 days after connecting")

            harness.advanceTime(days: 4)
            let (cafeBefore, bikeBefore) = (try await harness.tokens("MLSANDBOXCAFE"), try await harness.tokens("MLSANDBOXBIKE"))
            let callsBefore = harness.tokenCalls
            let results = LogCollector()
            let report = try await services.refresher.runPass(onResult: { merchant, _ in results.append(merchant) })
            #expect(results.all == ["MLSANDBOXCAFE"], "only the 8-day-old token is due")
            #expect(report.refreshed == 1)
            #expect(report.summary == "1 due, 1 refreshed, 0 need re-authorization, 0 to retry later, 0 skipped")
            #expect(harness.tokenCalls == callsBefore + 1)

            let cafe = try await harness.stored("MLSANDBOXCAFE")
            #expect(cafe.status == .active)
            #expect(cafe.lastRefreshedAt.map { abs($0.timeIntervalSince(harness.clock.appClock.now())) < 5 } == true)
            let cafeAfter = try await harness.tokens("MLSANDBOXCAFE")
            #expect(cafeAfter.access != cafeBefore.access)
            #expect(await harness.squareAccepts(accessToken: try #require(cafeAfter.access)))
            #expect(try await harness.tokens("MLSANDBOXBIKE") == bikeBefore, "the 4-day-old connection is untouched")
            #expect(
                try await harness.database().auditEvents().contains { $0.action.rawValue == "token.refreshed" && $0.merchantId == "MLSANDBOXCAFE" }
            )
        }
    }

    @Test func aTokenCloseToExpiryIsRefreshedWhateverItsAge() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            // Refresh age of 25 days, margin of 72 hours: at day 27.5 only the margin makes it due.
            let services = try await harness.services(["refresh.ageHours": "\(25 * 24)"])
            harness.advanceTime(days: 24)
            #expect(try await services.refresher.runPass().chosen == 0)
            harness.advanceTime(days: 3.5)
            #expect(try await services.refresher.runPass().refreshed == 1)
        }
    }

    @Test func pkceUsesTheRotatedRefreshTokenNextTime() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let services = try await harness.services()
            let first = try await harness.tokens("MLSANDBOXCAFE")

            harness.advanceTime(days: 8)
            #expect(try await services.refresher.runPass().refreshed == 1)
            let second = try await harness.tokens("MLSANDBOXCAFE")
            #expect(second.refresh != first.refresh, "PKCE returns a new single-use refresh token, and we keep it")
            #expect(try await harness.stored("MLSANDBOXCAFE").refreshTokenExpiresAt != nil)

            harness.advanceTime(days: 8)
            #expect(try await services.refresher.runPass().refreshed == 1, "the stored (rotated) token works")
            #expect(try await harness.tokens("MLSANDBOXCAFE").refresh != second.refresh)

            // The first token was spent: Square refuses it, so using it would have ended the connection.
            let spentToken = Secret(try #require(first.refresh))
            await #expect(throws: SquareError.self) {
                try await services.square.obtainToken(.refresh(clientId: ServiceHarness.clientId, refreshToken: spentToken))
            }
        }
    }

    @Test func codeFlowKeepsItsRefreshToken() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"], ["square.flow": "code"])
            let services = try await harness.services(["square.flow": "code"])
            let before = try await harness.tokens("MLSANDBOXCAFE")
            harness.advanceTime(days: 8)
            #expect(try await services.refresher.runPass().refreshed == 1)
            let after = try await harness.tokens("MLSANDBOXCAFE")
            #expect(after.refresh == before.refresh)
            #expect(after.access != before.access)
        }
    }

    @Test func twoConcurrentRefreshesInOneProcessMakeOneSquareCall() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let services = try await harness.services()
            let id = try await harness.stored("MLSANDBOXCAFE").id
            harness.emulator.inject(.latency(milliseconds: 400, path: "/oauth2/token"))
            let callsBefore = harness.tokenCalls
            async let admin = services.refresher.refresh(connectionId: id, actor: .admin("alice"), force: true)
            async let partner = services.refresher.refresh(connectionId: id, actor: .partner("acme"), force: true)
            let outcomes = await [admin, partner]
            #expect(harness.tokenCalls == callsBefore + 1, "exactly one call to Square")
            for outcome in outcomes {
                guard case .refreshed = outcome else {
                    Issue.record("both callers see the one refresh succeed, got \(outcome)")
                    continue
                }
            }
        }
    }

    @Test func twoWorkersSharingTheDatabaseMakeOneSquareCall() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let (one, two) = (try await harness.services(), try await harness.services())
            harness.advanceTime(days: 8)
            harness.emulator.inject(.latency(milliseconds: 400, path: "/oauth2/token"))
            let callsBefore = harness.tokenCalls
            async let first = one.refresher.runPass()
            async let second = two.refresher.runPass()
            let reports = try await [first, second]
            #expect(harness.tokenCalls == callsBefore + 1, "the row lease keeps the second worker out")
            #expect(reports.map(\.refreshed).reduce(0, +) == 1)
            #expect(try await harness.stored("MLSANDBOXCAFE").refreshLeaseUntil == nil, "the lease is released")
        }
    }

    @Test func aRejectedRefreshTokenMarksNeedsReauthWithTheReason() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            let services = try await harness.services()
            #expect(harness.emulator.revokeAsMerchant(merchantId: "MLSANDBOXCAFE"))
            let cafe = try await services.refresher.runPass(merchantId: "MLSANDBOXCAFE")
            harness.emulator.inject(.status(400, path: "/oauth2/token"))
            let bike = try await services.refresher.runPass(merchantId: "MLSANDBOXBIKE")
            #expect(cafe.needsReauth == 1 && bike.needsReauth == 1, "a revoked grant and a 400 both end in re-authorization")
            harness.advanceTime(days: 8)
            for merchant in ["MLSANDBOXCAFE", "MLSANDBOXBIKE"] {
                let connection = try await harness.stored(merchant)
                #expect(connection.status == .needsReauth)
                #expect(connection.lastError?.contains("the merchant must connect again") == true)
                #expect(connection.sealedRefreshToken != nil, "nothing is thrown away")
            }
            #expect(try await harness.stored("MLSANDBOXCAFE").lastError?.contains("HTTP 401") == true)
            #expect(try await harness.stored("MLSANDBOXBIKE").lastError?.contains("HTTP 400") == true)
            let audits = try await harness.database().auditEvents().filter { $0.action.rawValue == "token.needs_reauth" }
            #expect(Set(audits.compactMap(\.merchantId)) == ["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            #expect(try await services.refresher.runPass().chosen == 0, "needs_reauth connections are left alone")
        }
    }

    @Test(arguments: [503, 429])
    func aTransientFailureIsRetriedWithBackoff(status: Int) async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let services = try await harness.services()
            harness.advanceTime(days: 8)
            harness.emulator.inject(.status(status, path: "/oauth2/token"))
            let failed = try await services.refresher.runPass()
            #expect(failed.retryLater == 1)
            var connection = try await harness.stored("MLSANDBOXCAFE")
            #expect(connection.status == .active)
            #expect(connection.refreshFailureCount == 1)
            #expect(connection.lastError?.contains("HTTP \(status)") == true)
            let retryAt = try #require(connection.nextRefreshAt)
            let now = harness.clock.appClock.now()
            #expect(retryAt.timeIntervalSince(now) >= 47 && retryAt.timeIntervalSince(now) <= 73, "60 s ± 20 %")

            #expect(try await services.refresher.runPass().chosen == 0, "not before the backoff is over")
            harness.advanceTime(seconds: 75)
            #expect(try await services.refresher.runPass().refreshed == 1)
            connection = try await harness.stored("MLSANDBOXCAFE")
            #expect(connection.refreshFailureCount == 0)
            #expect(connection.lastError == nil)
        }
    }

    @Test func backoffDoublesAndIsCapped() throws {
        let settings = try ServiceHarness.settings(["refresh.backoffSeconds": "10", "refresh.maxBackoffSeconds": "100"])
        #expect((8...12).contains(settings.backoffDelay(failures: 1)))
        #expect((32...48).contains(settings.backoffDelay(failures: 3)))
        #expect((80...120).contains(settings.backoffDelay(failures: 12)))
        #expect(settings.backoffDelay(failures: 1, retryAfterSeconds: 30) >= 30, "Square's Retry-After is honoured")
    }

    @Test func aPKCERefreshTokenNearItsNinetyDaysIsDueEvenWhenTheAccessTokenIsNot() throws {
        let settings = try ServiceHarness.settings(["refresh.ageHours": "\(29 * 24)", "refresh.marginHours": "24"])
        let now = Date()
        var connection = ConnectionRecord(
            id: 1,
            environment: "sandbox",
            merchantId: "M1",
            sealedRefreshToken: "sb1.x.y",
            tokenType: "bearer",
            expiresAt: now.addingTimeInterval(20 * 86_400),
            refreshTokenExpiresAt: now.addingTimeInterval(45 * 86_400),
            scopes: "",
            shortLived: false,
            flow: .pkce,
            status: .active,
            connectedAt: now.addingTimeInterval(-86_400),
            refreshFailureCount: 0,
            updatedAt: now
        )
        #expect(!settings.isDue(connection, now: now), "45 days of refresh-token life left, access token fresh")
        connection.refreshTokenExpiresAt = now.addingTimeInterval(29 * 86_400)
        #expect(settings.isDue(connection, now: now), "within the 30-day refresh-token margin")
    }

    @Test func aLeaseShorterThanTwoSquareCallsIsRefusedAtStart() {
        #expect(throws: ConfigurationError.self) {
            _ = try ServiceHarness.settings(["square.timeoutSeconds": "30", "refresh.leaseSeconds": "40"])
        }
    }
}

extension ServiceHarness {
    /// Token-life settings parsed from `values` plus the minimum every configuration needs.
    static func settings(_ values: [String: String]) throws -> TokenLifeSettings {
        var all = [
            "square.clientId": "x", "onboard.encryptionKeys": "k:" + String(repeating: "A", count: 43) + "=",
        ]
        all.merge(values) { $1 }
        return try AppConfiguration(reader: reader(all)).tokenLife
    }
}
