import Foundation
import OnboardCrypto
import Testing

@testable import Onboarding

/// The storage contract for the status sweep's due set: what is due, in which order, read a page at a time.
extension StoreContractTests {
    /// Imports one connection per entry, in order, with its status and when it was last checked (nil: never).
    static func importChecked(_ store: any OnboardingStore, _ rows: [(String, ImportedConnection.Status, Date?)]) async throws -> [String: Int64] {
        let importer = ConnectionImporter(store: store, vault: TokenVault(keyRing: try KeyRing(keys: [("k1", .generate())])), environment: "sandbox")
        try await importer.importBatch(
            rows.map { merchant, status, checkedAt in
                var connection = imported(merchant, status: status)
                connection.lastCheckedAt = checkedAt
                return connection
            }
        )
        return Dictionary(uniqueKeysWithValues: try await store.allConnections().map { ($0.merchantId, $0.id) })
    }

    /// Every page from the start, following each from the last row of the one before, as the sweep reads them.
    static func allPages(_ store: any OnboardingStore, checkedBefore cutoff: Date, limit: Int) async throws -> [[Int64]] {
        var pages: [[Int64]] = []
        var last: DueStatusCheck?
        while pages.count < 100 {
            let page = try await store.connectionsDueForStatusCheck(checkedBefore: cutoff, after: last, limit: limit)
            guard !page.isEmpty else { break }
            pages.append(page.map(\.id))
            last = page.last
        }
        return pages
    }

    @Test(arguments: engines) func theStatusDueSetIsActiveConnectionsWithATokenNotCheckedSinceTheCutoff(engine: StoreEngine) async throws {
        let store = try engine.make()
        let day: TimeInterval = 86_400
        let ids = try await Self.importChecked(
            store,
            [
                ("MLCHECKEDLONGAGO", .active, Self.now.addingTimeInterval(-3 * day)),
                ("MLCHECKEDTODAY", .active, Self.now.addingTimeInterval(-3600)),
                ("MLNEVERCHECKED", .active, nil),
                ("MLNEEDSREAUTH", .needsReauth, Self.now.addingTimeInterval(-3 * day)),
                ("MLREVOKED", .revoked, nil),
                ("MLEXPIRED", .expired, nil),
                ("MLCHECKEDYESTERDAY", .active, Self.now.addingTimeInterval(-2 * day)),
            ]
        )
        let cutoff = Self.now.addingTimeInterval(-day)
        #expect(try await store.countConnectionsDueForStatusCheck(checkedBefore: cutoff) == 3)
        let due = try await store.connectionsDueForStatusCheck(checkedBefore: cutoff, after: nil, limit: 10)
        #expect(
            due.map(\.id) == [ids["MLNEVERCHECKED"], ids["MLCHECKEDLONGAGO"], ids["MLCHECKEDYESTERDAY"]],
            "never checked first, then the least recently checked; not the one checked within the interval, nor the other statuses"
        )
        #expect(due.map(\.lastCheckedAt) == [nil, Self.now.addingTimeInterval(-3 * day), Self.now.addingTimeInterval(-2 * day)])

        // Revoked meanwhile (its tokens wiped), or checked meanwhile: out of the due set.
        let revoked = try #require(ids["MLCHECKEDLONGAGO"])
        _ = try await store.markRevoked(connectionId: revoked, by: "square", now: Self.now, audit: Self.audit(.connectionRevoked))
        #expect(try await store.countConnectionsDueForStatusCheck(checkedBefore: cutoff) == 2)
        try await store.recordHealthyStatus(connectionId: try #require(ids["MLNEVERCHECKED"]), scopes: nil, expiresAt: nil, now: Self.now)
        #expect(try await store.connectionsDueForStatusCheck(checkedBefore: cutoff, after: nil, limit: 10).map(\.id) == [ids["MLCHECKEDYESTERDAY"]])
    }

    @Test(arguments: engines) func statusDuePagesGoOnFromTheLastRowSoAnUnansweredCheckIsNotReadAgain(engine: StoreEngine) async throws {
        let store = try engine.make()
        let hour: TimeInterval = 3600
        let same = Self.now.addingTimeInterval(-50 * hour)
        // Imported in this order, so ids rise down the list; three share one check time, four were never checked.
        let ids = try await Self.importChecked(
            store,
            [
                ("MLA", .active, same), ("MLB", .active, nil), ("MLC", .active, Self.now.addingTimeInterval(-70 * hour)),
                ("MLD", .active, same), ("MLE", .active, nil), ("MLF", .active, nil), ("MLG", .active, same),
                ("MLH", .active, Self.now.addingTimeInterval(-30 * hour)), ("MLI", .active, nil),
            ]
        )
        let order = ["MLB", "MLE", "MLF", "MLI", "MLC", "MLA", "MLD", "MLG", "MLH"].map { ids[$0]! }
        let cutoff = Self.now.addingTimeInterval(-24 * hour)
        // Nothing is recorded between pages, as when Square answers no check: each page still starts after the last.
        for limit in [1, 2, 3, 4, 9, 50] {
            let pages = try await Self.allPages(store, checkedBefore: cutoff, limit: limit)
            #expect(pages.flatMap { $0 } == order, "limit \(limit)")
            #expect(pages.allSatisfy { $0.count <= limit }, "limit \(limit)")
        }
        // A row checked meanwhile leaves the due set; the next page goes on after the last row read.
        let first = try await store.connectionsDueForStatusCheck(checkedBefore: cutoff, after: nil, limit: 5)
        try await store.recordHealthyStatus(connectionId: ids["MLA"]!, scopes: nil, expiresAt: nil, now: Self.now)
        let rest = try await store.connectionsDueForStatusCheck(checkedBefore: cutoff, after: first.last, limit: 50)
        #expect(first.map(\.id) + rest.map(\.id) == order.filter { $0 != ids["MLA"] })
    }
}
