import Configuration
import Foundation
import Testing

@testable import Onboarding

/// The storage contract: leases, refreshes, status checks and the due set.
extension StoreContractTests {
    // MARK: Token life

    @Test(arguments: engines) func aLeaseIsExclusiveUntilItLapses(engine: StoreEngine) async throws {
        let store = try engine.make()
        let id = try await Self.connect(store, "MLA").id
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
        let old = try await Self.connect(store, "MLOLD", at: Self.now.addingTimeInterval(-8 * 86_400)).id
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
            let id = try await Self.connect(store, "ML\(day)", at: Self.now.addingTimeInterval(TimeInterval(-day) * 86_400)).id
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
        let id = try await Self.connect(store, "MLA").id
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
        let active = try await Self.connect(store, "MLA").id
        let revoked = try await Self.connect(store, "MLB").id
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
        let id = try await Self.connect(store, "MLA").id
        let cutoff = Self.now.addingTimeInterval(3600)
        #expect(try await store.countConnectionsDueForStatusCheck(checkedBefore: Self.now) == 0, "checked when it connected")
        #expect(try await store.connectionsDueForStatusCheck(checkedBefore: cutoff, after: nil, limit: 10).map(\.id) == [id])
        try await store.recordHealthyStatus(connectionId: id, scopes: "PAYMENTS_READ", expiresAt: nil, now: cutoff)
        let checked = try #require(try await store.connection(id: id))
        #expect(checked.scopes == "PAYMENTS_READ" && checked.lastCheckedAt == cutoff)
        #expect(try await store.countConnectionsDueForStatusCheck(checkedBefore: cutoff) == 0, "a recorded check leaves the due set")
        try await store.markAccessTokenExpired(connectionId: id, now: cutoff, audit: Self.audit(.tokenExpired, actor: .system))
        #expect(try await store.connection(id: id)?.status == .expired)
        #expect(try await store.connectionsDueForRefresh(settings: Self.settings, now: cutoff, merchantId: nil).map(\.id) == [id])
    }
}

/// The storage contract for whole passes: leasing the due set in chunks, group commits, releasing unused leases.
extension StoreContractTests {
    @Test(arguments: engines) func aChunkLeaseTakesOnlyRowsStillDueAndFreeAndEachOnce(engine: StoreEngine) async throws {
        let store = try engine.make()
        let s = Self.settings
        var old: [Int64] = []
        for day in 8..<13 {
            old.append(try await Self.connect(store, "ML\(day)", at: Self.now.addingTimeInterval(TimeInterval(-day) * 86_400)).id)
        }
        let fresh = try await Self.connect(store, "MLNEW").id
        let due = try await store.connectionIdsDueForRefresh(settings: s, now: Self.now, limit: 100)
        #expect(due == (try await store.connectionsDueForRefresh(settings: s, now: Self.now, merchantId: nil)).map(\.id), "the due set's order")
        #expect(Set(due) == Set(old))
        #expect(try await store.connectionIdsDueForRefresh(settings: s, now: Self.now, limit: 2) == Array(due.prefix(2)))

        // Since the ids were read: another worker leased one, one failed and backs off, one was revoked.
        _ = try await store.leaseForRefresh(connectionId: old[0], owner: "other", settings: s, force: false, now: Self.now)
        try await store.recordRefreshFailure(
            connectionId: old[1],
            reason: "503",
            retryAt: Self.now.addingTimeInterval(60),
            now: Self.now,
            audit: Self.audit(.tokenRefreshFailed)
        )
        _ = try await store.markRevoked(connectionId: old[2], by: "merchant", now: Self.now, audit: Self.audit(.connectionRevoked))
        let leases = try await store.leaseForRefresh(connectionIds: old + [fresh, 999], owner: "w", settings: s, now: Self.now)
        #expect(leases.map(\.connection.id) == [old[3], old[4]], "only rows still due and free, in the order asked")
        #expect(leases.allSatisfy { $0.owner == "w" && !$0.previousAttemptInterrupted })
        for id in [old[3], old[4]] {
            let row = try #require(try await store.connection(id: id))
            #expect(row.refreshLeaseOwner == "w" && row.refreshLeaseUntil == Self.now.addingTimeInterval(s.leaseDuration))
        }
        #expect(try await store.connection(id: old[0])?.refreshLeaseOwner == "other", "another worker's lease is kept")
        #expect(try await store.connection(id: fresh)?.refreshLeaseUntil == nil, "a row not due is never leased")
        #expect(try await store.leaseForRefresh(connectionIds: [old[3]], owner: "x", settings: s, now: Self.now).isEmpty, "nor twice")
        #expect(
            try await store.leaseForRefresh(connectionId: old[3], owner: "x", settings: s, force: true, now: Self.now)
                == .failure(.busy(until: Self.now.addingTimeInterval(s.leaseDuration))),
            "a chunk's lease keeps single leases out too"
        )
        #expect(try await store.connectionIdsDueForRefresh(settings: s, now: Self.now, limit: 100).isEmpty, "leased rows leave the due set")

        let lapsed = Self.now.addingTimeInterval(s.leaseDuration + 1)
        let again = try await store.leaseForRefresh(connectionIds: old, owner: "x", settings: s, now: lapsed)
        #expect(Set(again.map(\.connection.id)) == [old[0], old[1], old[3], old[4]], "lapsed leases and backoffs end")
        #expect(again.filter(\.previousAttemptInterrupted).count == 3, "a lapsed lease says an earlier attempt did not finish")
    }

    @Test(arguments: engines) func refreshesSavedAtOnceAreEachStoredAndTheRevokedSkipped(engine: StoreEngine) async throws {
        let store = try engine.make()
        let a = try await Self.connect(store, "MLA").id
        let b = try await Self.connect(store, "MLB").id
        let c = try await Self.connect(store, "MLC").id
        for id in [a, b, c] {
            _ = try await store.leaseForRefresh(connectionId: id, owner: "w", settings: Self.settings, force: true, now: Self.now)
        }
        try await store.recordRefreshFailure(
            connectionId: b,
            reason: "503",
            retryAt: Self.now,
            now: Self.now,
            audit: Self.audit(.tokenRefreshFailed, merchant: "MLB")
        )
        _ = try await store.markRevoked(connectionId: c, by: "merchant", now: Self.now, audit: Self.audit(.connectionRevoked, merchant: "MLC"))
        let later = Self.now.addingTimeInterval(60)
        // Saved at once, as a refresh pass's refreshes finish: they share a group commit, each in its own savepoint.
        @Sendable func save(_ id: Int64, _ merchant: String, refresh: String?) async throws -> Bool {
            try await store.saveRefreshedTokens(
                RefreshedTokens(
                    sealedAccessToken: "sb1.k.new-access-\(merchant)",
                    sealedRefreshToken: refresh,
                    expiresAt: later.addingTimeInterval(30 * 86_400),
                    refreshTokenExpiresAt: refresh == nil ? nil : later.addingTimeInterval(90 * 86_400),
                    shortLived: false
                ),
                connectionId: id,
                now: later,
                audit: AuditEventRecord(occurredAt: later, actor: .system, action: .tokenRefreshed, merchantId: merchant)
            )
        }
        async let savedA = save(a, "MLA", refresh: "sb1.k.new-refresh-MLA")
        async let savedB = save(b, "MLB", refresh: nil)
        async let savedC = save(c, "MLC", refresh: nil)
        let saved = try await [savedA, savedB, savedC]
        #expect(saved == [true, true, false], "one answer per save; the revoked row is left alone")

        let rowA = try #require(try await store.connection(id: a))
        #expect(rowA.sealedAccessToken == "sb1.k.new-access-MLA" && rowA.sealedRefreshToken == "sb1.k.new-refresh-MLA")
        #expect(rowA.refreshTokenExpiresAt == later.addingTimeInterval(90 * 86_400) && rowA.expiresAt == later.addingTimeInterval(30 * 86_400))
        #expect(rowA.lastRefreshedAt == later && rowA.refreshLeaseUntil == nil && rowA.refreshLeaseOwner == nil && rowA.status == .active)
        let rowB = try #require(try await store.connection(id: b))
        #expect(rowB.sealedRefreshToken == "sb1.k.refresh-sb1.k.access-MLB", "no new refresh token: the stored one stays")
        #expect(rowB.refreshTokenExpiresAt == Self.now.addingTimeInterval(90 * 86_400), "and so does its expiry")
        #expect(rowB.refreshFailureCount == 0 && rowB.lastError == nil && rowB.nextRefreshAt == nil, "failures are cleared")
        let rowC = try #require(try await store.connection(id: c))
        #expect(rowC.status == .revoked && rowC.sealedAccessToken == nil, "a revoked connection gets no tokens back")

        let refreshed = try await store.auditEvents().filter { $0.action == .tokenRefreshed }
        #expect(refreshed.compactMap(\.merchantId).sorted() == ["MLA", "MLB"], "one audit event per stored refresh")
    }

    @Test(arguments: engines) func unusedLeasesAreReleasedOnlyByTheirOwner(engine: StoreEngine) async throws {
        let store = try engine.make()
        let s = Self.settings
        var ids: [Int64] = []
        for merchant in ["MLA", "MLB", "MLC"] {
            ids.append(try await Self.connect(store, merchant, at: Self.now.addingTimeInterval(-8 * 86_400)).id)
        }
        _ = try await store.leaseForRefresh(connectionId: ids[2], owner: "other", settings: s, force: false, now: Self.now)
        let leased = try await store.leaseForRefresh(connectionIds: ids, owner: "w", settings: s, now: Self.now)
        #expect(leased.map(\.connection.id) == Array(ids.prefix(2)))
        try await store.releaseLeases(connectionIds: ids, owner: "w")
        #expect(try await store.connection(id: ids[0])?.refreshLeaseUntil == nil)
        #expect(try await store.connection(id: ids[1])?.refreshLeaseUntil == nil)
        #expect(try await store.connection(id: ids[2])?.refreshLeaseOwner == "other", "another worker's lease stays")
        #expect(Set(try await store.connectionIdsDueForRefresh(settings: s, now: Self.now, limit: 10)) == Set(ids.prefix(2)), "due again")
    }
}
