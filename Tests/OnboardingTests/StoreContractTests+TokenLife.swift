import Configuration
import Foundation
import Testing

@testable import Onboarding

/// The storage contract: leases, refreshes, status checks and the due set.
extension StoreContractTests {
    // MARK: Token life

    @Test(arguments: engines) func aLeaseIsExclusiveUntilItLapses(engine: StoreEngine) async throws {
        let store = try engine.make()
        let id = try #require(try await Self.connect(store, "MLA").id)
        let s = Self.settings
        #expect(try await store.leaseForRefresh(connectionId: id, owner: "a", settings: s, force: false, now: Self.now) == .failure(.notDue))
        guard case .success(let lease) = try await store.leaseForRefresh(connectionId: id, owner: "a", settings: s, force: true, now: Self.now)
        else {
            Issue.record("a forced lease is granted")
            return
        }
        #expect(lease.owner == "a" && !lease.previousAttemptInterrupted)
        let busy = try await store.leaseForRefresh(connectionId: id, owner: "b", settings: s, force: true, now: Self.now)
        #expect(busy == .failure(.busy(until: Self.now.addingTimeInterval(s.leaseDuration))))
        let lapsed = Self.now.addingTimeInterval(s.leaseDuration + 1)
        guard case .success(let second) = try await store.leaseForRefresh(connectionId: id, owner: "b", settings: s, force: true, now: lapsed)
        else {
            Issue.record("a lapsed lease can be taken over")
            return
        }
        #expect(second.previousAttemptInterrupted)
        try await store.releaseLease(connectionId: id, owner: "a")
        #expect(try await store.connection(id: id)?.refreshLeaseOwner == "b", "only the holder releases")
        try await store.releaseLease(connectionId: id, owner: "b")
        #expect(try await store.connection(id: id)?.refreshLeaseUntil == nil)
        #expect(try await store.leaseForRefresh(connectionId: 999, owner: "a", settings: s, force: true, now: Self.now) == .failure(.notFound))
    }

    @Test(arguments: engines) func dueConnectionsAreTheOldOnesFreeOfLeaseAndBackoff(engine: StoreEngine) async throws {
        let store = try engine.make()
        let old = try #require(try await Self.connect(store, "MLOLD", at: Self.now.addingTimeInterval(-8 * 86_400)).id)
        try await Self.connect(store, "MLNEW")
        let due = try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil)
        #expect(due.map(\.merchantId) == ["MLOLD"])
        try await store.recordRefreshFailure(
            connectionId: old,
            reason: "Square answered HTTP 503",
            retryAt: Self.now.addingTimeInterval(60),
            now: Self.now,
            audit: Self.audit(.tokenRefreshFailed, merchant: "MLOLD", actor: .system)
        )
        let failed = try #require(try await store.connection(id: old))
        #expect(failed.refreshFailureCount == 1 && failed.lastError == "Square answered HTTP 503")
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil).isEmpty, "backing off")
        let retry = Self.now.addingTimeInterval(61)
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: retry, merchantId: "MLOLD").map(\.id) == [old])
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: retry, merchantId: "MLNEW").isEmpty)
    }

    @Test(arguments: engines) func theDatabaseChoosesExactlyTheConnectionsTheSettingsCallDue(engine: StoreEngine) async throws {
        let store = try engine.make()
        // Connected 0 to 39 days ago, one a day; some expired, some leased, some backing off, one revoked.
        for day in 0..<40 {
            let id = try #require(try await Self.connect(store, "ML\(day)", at: Self.now.addingTimeInterval(TimeInterval(-day) * 86_400)).id)
            switch day % 5 {
            case 1: try await store.markAccessTokenExpired(connectionId: id, now: Self.now, audit: Self.audit(.tokenExpired))
            case 2: _ = try await store.leaseForRefresh(connectionId: id, owner: "w", settings: Self.settings, force: true, now: Self.now)
            case 3:
                try await store.recordRefreshFailure(
                    connectionId: id,
                    reason: "503",
                    retryAt: Self.now.addingTimeInterval(60),
                    now: Self.now,
                    audit: Self.audit(.tokenRefreshFailed)
                )
            default:
                if day == 35 {
                    _ = try await store.markRevoked(connectionId: id, by: "merchant", now: Self.now, audit: Self.audit(.connectionRevoked))
                }
            }
        }
        let all = try await store.allConnections()
        let expected = all.filter {
            ConnectionStatus.refreshable.contains($0.status) && $0.sealedRefreshToken != nil
                && ($0.refreshLeaseUntil.map { $0 <= Self.now } ?? true) && ($0.nextRefreshAt.map { $0 <= Self.now } ?? true)
                && Self.settings.isDue($0, now: Self.now)
        }
        let chosen = try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil)
        #expect(Set(chosen.map(\.id)) == Set(expected.map(\.id)))
        #expect(expected.count > 10 && expected.count < 40, "the data has due and not-due rows")
        #expect(try await store.countConnectionsDueForRefresh(settings: Self.settings, now: Self.now) == expected.count)
        let firstTen = try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil, limit: 10)
        #expect(firstTen.map(\.id) == Array(chosen.prefix(10)).map(\.id), "a limit takes the head of the same order")
    }

    @Test(arguments: engines) func refreshedTokensReplaceTheOldAndClearFailures(engine: StoreEngine) async throws {
        let store = try engine.make()
        let id = try #require(try await Self.connect(store, "MLA").id)
        _ = try await store.leaseForRefresh(connectionId: id, owner: "a", settings: Self.settings, force: true, now: Self.now)
        let tokens = RefreshedTokens(
            sealedAccessToken: "sb1.k.new-access",
            sealedRefreshToken: nil,
            expiresAt: Self.now.addingTimeInterval(86_400),
            refreshTokenExpiresAt: nil,
            shortLived: false
        )
        #expect(try await store.saveRefreshedTokens(tokens, connectionId: id, now: Self.now, audit: Self.audit(.tokenRefreshed, actor: .system)))
        let saved = try #require(try await store.connection(id: id))
        #expect(saved.sealedAccessToken == "sb1.k.new-access" && saved.sealedRefreshToken == "sb1.k.refresh-sb1.k.access-MLA")
        #expect(saved.refreshLeaseUntil == nil && saved.lastRefreshedAt == Self.now && saved.refreshFailureCount == 0)

        _ = try await store.markRevoked(connectionId: id, by: "merchant", now: Self.now, audit: Self.audit(.connectionRevoked))
        #expect(try await !store.saveRefreshedTokens(tokens, connectionId: id, now: Self.now, audit: Self.audit(.tokenRefreshed)))
        #expect(try await store.connection(id: id)?.sealedAccessToken == nil, "a revoked connection gets no tokens back")
    }

    @Test(arguments: engines) func needsReauthNeverReopensARevokedConnection(engine: StoreEngine) async throws {
        let store = try engine.make()
        let active = try #require(try await Self.connect(store, "MLA").id)
        let revoked = try #require(try await Self.connect(store, "MLB").id)
        _ = try await store.markRevoked(connectionId: revoked, by: "square", now: Self.now, audit: Self.audit(.connectionRevoked))
        for id in [active, revoked] {
            try await store.markNeedsReauth(connectionId: id, reason: "refused", now: Self.now, audit: Self.audit(.tokenNeedsReauth))
        }
        #expect(try await store.connection(id: active)?.status == .needsReauth)
        #expect(try await store.connection(id: active)?.lastError == "refused")
        #expect(try await store.connection(id: revoked)?.status == .revoked)
        _ = try await store.leaseForRefresh(connectionId: active, owner: "a", settings: Self.settings, force: true, now: Self.now)
        #expect(
            try await store.leaseForRefresh(connectionId: active, owner: "a", settings: Self.settings, force: true, now: Self.now)
                == .failure(.notRefreshable(status: .needsReauth))
        )
    }

    @Test(arguments: engines) func statusChecksFindTheUncheckedAndRecordWhatSquareSaid(engine: StoreEngine) async throws {
        let store = try engine.make()
        let id = try #require(try await Self.connect(store, "MLA").id)
        let cutoff = Self.now.addingTimeInterval(3600)
        #expect(try await store.connectionsDueForStatusCheck(checkedBefore: Self.now).isEmpty, "checked when it connected")
        #expect(try await store.connectionsDueForStatusCheck(checkedBefore: cutoff).map(\.id) == [id])
        try await store.recordHealthyStatus(connectionId: id, scopes: "PAYMENTS_READ", expiresAt: nil, now: cutoff)
        let checked = try #require(try await store.connection(id: id))
        #expect(checked.scopes == "PAYMENTS_READ" && checked.lastCheckedAt == cutoff)
        try await store.markAccessTokenExpired(connectionId: id, now: cutoff, audit: Self.audit(.tokenExpired, actor: .system))
        #expect(try await store.connection(id: id)?.status == .expired)
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: cutoff, merchantId: nil).map(\.id) == [id])
    }
}
