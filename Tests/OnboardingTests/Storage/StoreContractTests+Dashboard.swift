import Configuration
import Foundation
import Testing

@testable import Onboarding

/// The storage contract: the dashboard's reads and the retention sweep.
extension StoreContractTests {
    // MARK: Dashboard reads

    /// 30 merchants ML00…ML29 connected an hour apart, every third needing re-authorization, expiries spread out.
    static func seedDashboard(_ store: any OnboardingStore) async throws -> [ConnectionRecord] {
        for index in 0..<30 {
            let merchant = "ML" + (index < 10 ? "0" : "") + String(index)
            let at = now.addingTimeInterval(TimeInterval(-index * 3600))
            let id = try await connect(store, merchant, at: at).id
            if index % 3 == 0 {
                try await store.markNeedsReauth(connectionId: id, reason: "refused", now: at, audit: audit(.tokenNeedsReauth))
            }
        }
        return try await store.allConnections()
    }

    /// Every page of `query`, followed to the end.
    static func allPages(_ store: any OnboardingStore, _ query: ConnectionQuery) async throws -> [ConnectionRecord] {
        var query = query
        var rows: [ConnectionRecord] = []
        for _ in 0..<100 {
            let page = try await store.connections(matching: query)
            rows += page.connections
            guard let next = page.next else { return rows }
            #expect(ConnectionCursor(token: next.token) == next, "the cursor survives the query string")
            query.after = next
        }
        Issue.record("paging did not end")
        return rows
    }

    @Test(arguments: engines) func pagingVisitsEveryConnectionOnceInEachOrder(engine: StoreEngine) async throws {
        let store = try engine.make()
        let all = try await Self.seedDashboard(store)
        let recent = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", sort: .recent, limit: 7))
        #expect(recent.map(\.merchantId) == all.sorted { $0.connectedAt > $1.connectedAt }.map(\.merchantId))
        let byMerchant = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", sort: .merchant, limit: 4))
        #expect(byMerchant.map(\.merchantId) == all.map(\.merchantId).sorted())
        let byExpiry = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", sort: .expiry, limit: 9))
        #expect(byExpiry.map(\.merchantId) == all.sorted { ($0.expiresAt!, $0.id) < ($1.expiresAt!, $1.id) }.map(\.merchantId))
        let firstPage = try await store.connections(matching: ConnectionQuery(environment: "sandbox", limit: 30))
        #expect(firstPage.connections.count == 30 && firstPage.next == nil, "no next page past the end")
        #expect(try await store.connections(matching: ConnectionQuery(environment: "production")).connections.isEmpty)
    }

    @Test(arguments: engines) func filtersCombineWithPaging(engine: StoreEngine) async throws {
        let store = try engine.make()
        _ = try await Self.seedDashboard(store)
        let reauth = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", status: .needsReauth, limit: 3))
        #expect(reauth.count == 10 && reauth.allSatisfy { $0.status == .needsReauth })
        let search = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", search: "ML1", limit: 4))
        #expect(Set(search.map(\.merchantId)) == Set((10...19).map { "ML\($0)" }))
        let both = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", search: "ML1", status: .needsReauth))
        #expect(Set(both.map(\.merchantId)) == ["ML12", "ML15", "ML18"])
        let lowercase = try await Self.allPages(store, ConnectionQuery(environment: "sandbox", search: "ml1"))
        #expect(Set(lowercase.map(\.merchantId)) == Set((10...19).map { "ML\($0)" }), "merchant ids match in any case")
        for literal in ["%", "ML_", "' OR 1=1 --", "<b>ML1</b>"] {
            #expect(try await store.connections(matching: ConnectionQuery(environment: "sandbox", search: literal)).connections.isEmpty, "\(literal)")
        }
    }

    @Test(arguments: engines) func theOverviewCountsWhatTheOperatorOpensWith(engine: StoreEngine) async throws {
        let store = try engine.make()
        _ = try await Self.seedDashboard(store)
        for _ in 0..<2 { try await store.appendAudit(Self.audit(.tokenRefreshFailed, merchant: "ML01", actor: .system)) }
        var old = Self.audit(.tokenRefreshFailed, actor: .system)
        old.occurredAt = Self.now.addingTimeInterval(-2 * 86_400)
        try await store.appendAudit(old)
        // Tokens expire 30 days after connecting: those connected 0-29 hours ago all expire within 31 days.
        let overview = try await store.connectionOverview(
            environment: "sandbox",
            now: Self.now,
            expiringBefore: Self.now.addingTimeInterval(30 * 86_400 - 10 * 3600 + 1),
            failuresSince: Self.now.addingTimeInterval(-86_400)
        )
        #expect(overview.countsByStatus == [.active: 20, .needsReauth: 10])
        #expect(overview.expiringSoon == (10...29).filter { $0 % 3 != 0 }.count, "active ones only, within the window")
        #expect(overview.refreshFailures == 2)
    }

    @Test(arguments: engines) func theAuditLogPagesNewestFirstWithFilters(engine: StoreEngine) async throws {
        let store = try engine.make()
        _ = try await Self.seedDashboard(store)
        try await store.appendAudit(Self.audit(.tokenRefreshed, merchant: "ML05", actor: .admin("alice")))
        let newest = try await store.auditEvents(matching: AuditQuery(limit: 5))
        #expect(newest.count == 5 && newest.first?.actor == .admin("alice"))
        #expect(newest.compactMap(\.id) == newest.compactMap(\.id).sorted(by: >))
        let older = try await store.auditEvents(matching: AuditQuery(limit: 5, beforeId: newest.last?.id))
        #expect(older.allSatisfy { $0.id! < newest.last!.id! })
        #expect(try await store.auditEvents(matching: AuditQuery(actor: .admin("alice"))).count == 1)
        #expect(try await store.auditEvents(matching: AuditQuery(merchantId: "ML05")).map(\.action) == [.tokenRefreshed, .connectionConnected])
        #expect(try await store.auditEvents(matching: AuditQuery(action: .tokenNeedsReauth)).count == 10)
    }

    // MARK: Retention

    @Test(arguments: engines) func retentionDeletesOnlyWhatIsOlderThanItsCutoffInBatches(engine: StoreEngine) async throws {
        let store = try engine.make()
        let old = Self.now.addingTimeInterval(-100 * 86_400)
        try await Self.connect(store, "MLOLD", at: old)
        try await Self.connect(store, "MLNEW")
        for id in ["e-old-1", "e-old-2"] {
            _ = try await store.applySquareEvent(
                SquareEventRecord(eventId: id, type: "payment.created", merchantId: nil, receivedAt: old),
                environment: "sandbox",
                revokedBy: nil
            )
        }
        _ = try await store.applySquareEvent(
            SquareEventRecord(eventId: "e-new", type: "payment.created", merchantId: nil, receivedAt: Self.now),
            environment: "sandbox",
            revokedBy: nil
        )
        let cutoff = Self.now.addingTimeInterval(-86_400)
        let cutoffs = RetentionCutoffs(
            authorizationsExpiredBefore: cutoff,
            sessionsEndedBefore: cutoff,
            squareEventsReceivedBefore: cutoff,
            auditBefore: cutoff
        )
        let first = try await store.deleteExpiredBatch(cutoffs, limit: 1)
        #expect(first == RetentionCounts(authorizations: 1, sessions: 1, squareEvents: 1, auditEvents: 1))
        let second = try await store.deleteExpiredBatch(cutoffs, limit: 10)
        #expect(second == RetentionCounts(authorizations: 0, sessions: 0, squareEvents: 1, auditEvents: 1))
        #expect(try await store.deleteExpiredBatch(cutoffs, limit: 10).total == 0)

        #expect(try await store.authorization(stateHash: "state-MLNEW-MLNEW") != nil)
        #expect(try await store.authorization(stateHash: "state-MLOLD-MLOLD") == nil)
        #expect(try await store.merchantSession(hash: "hash-MLNEW", now: Self.now) != nil)
        #expect(try await store.allConnections().count == 2, "connections are never swept")
        #expect(try await store.auditEvents().map(\.occurredAt).allSatisfy { $0 >= cutoff })
        let retried = SquareEventRecord(eventId: "e-new", type: "payment.created", merchantId: nil, receivedAt: Self.now)
        #expect(try await store.applySquareEvent(retried, environment: "sandbox", revokedBy: nil) == .duplicate, "recent ids kept")
    }
}
