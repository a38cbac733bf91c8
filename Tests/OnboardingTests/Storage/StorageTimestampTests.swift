import Foundation
import GRDB
import Testing

@testable import Onboarding

/// Our date text is GRDB's, character for character, so stored and bound dates still compare as before.
@Suite("Storage timestamps")
struct StorageTimestampTests {
    @Test func theTextIsGRDBsForManyDates() {
        var generator = SystemRandomNumberGenerator()
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
            Date(timeIntervalSince1970: 1_790_000_000.999_9), Date(timeIntervalSince1970: 4_102_444_799.5),  // 2099-12-31 23:59:59.5
            Date(timeIntervalSince1970: 253_402_300_799),  // 9999-12-31 23:59:59
        ]
        for _ in 0..<5000 {
            dates.append(Date(timeIntervalSince1970: Double.random(in: 0...5_000_000_000, using: &generator)))
        }
        for date in dates {
            let ours = String.fromDatabaseValue(StorageTimestamp(date).databaseValue)
            let grdb = String.fromDatabaseValue(date.databaseValue)
            #expect(ours == grdb, "\(date.timeIntervalSince1970)")
        }
    }

    @Test func aBoundTimestampComparesWithStoredDates() async throws {
        let queue = try DatabaseQueue()
        let stored = Date(timeIntervalSince1970: 1_790_000_000.25)
        let found = try await queue.write { db in
            try db.execute(sql: "CREATE TABLE t (at TEXT)")
            try db.execute(sql: "INSERT INTO t (at) VALUES (?)", arguments: [stored])
            return try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM t WHERE at <= ? AND at > ?",
                arguments: [StorageTimestamp(stored), StorageTimestamp(stored.addingTimeInterval(-0.001))]
            )
        }
        #expect(found == 1)
    }

    @Test func aDateBefore1970IsBoundAsGRDBBindsIt() {
        let old = Date(timeIntervalSince1970: -946_684_800.4645)
        #expect(StorageTimestamp(old).databaseValue == old.databaseValue)
    }
}
