import Foundation
import GRDB
import Synchronization
import Testing

@testable import Onboarding

/// Counts the transactions SQLite committed.
private final class CommitCounter: TransactionObserver, Sendable {
    let commits = Mutex(0)
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { commits.withLock { $0 += 1 } }
    func databaseDidRollback(_ db: Database) {}
}

/// A flag one task raises and another waits for.
private final class Flag: Sendable {
    private let raised = Mutex(false)
    func raise() { raised.withLock { $0 = true } }
    var isRaised: Bool { raised.withLock { $0 } }
}

/// Inside a write: raises `started`, then holds the writer (up to 10 s) until `count` writes wait behind it.
private func holdWriter(of group: GroupCommit, until count: Int, started: Flag) {
    started.raise()
    let deadline = Date().addingTimeInterval(10)
    while group.waitingCount < count, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
}

/// Waits (up to 10 s) until `condition` holds.
private func until(_ condition: () -> Bool) async {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
}

/// A WAL database with an `item` table, in a new folder the caller removes.
private func itemDatabase(uniqueNames: Bool) async throws -> (pool: DatabasePool, folder: URL) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("group-commit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let pool = try DatabasePool(path: folder.appendingPathComponent("db.sqlite").path)
    let name = uniqueNames ? "name TEXT NOT NULL UNIQUE" : "name TEXT NOT NULL"
    try await pool.write { db in try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, \(name))") }
    return (pool, folder)
}

/// The write's value or its storage error.
private func attempt(_ write: () async throws(StorageError) -> Int64) async -> Result<Int64, StorageError> {
    do {
        return .success(try await write())
    } catch {
        return .failure(error)
    }
}

@Suite("Group commit")
struct GroupCommitTests {
    @Test func writesThatWaitTogetherShareOneTransactionAndAFailingOneFailsAlone() async throws {
        let (pool, folder) = try await itemDatabase(uniqueNames: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let counter = CommitCounter()
        pool.add(transactionObserver: counter, extent: .databaseLifetime)
        let group = GroupCommit(writer: pool)

        let firstStarted = Flag()
        let results = await withTaskGroup(of: (Int, Result<Int64, StorageError>).self) { tasks in
            // The first write holds the writer until the others wait behind it, so they wait together.
            tasks.addTask {
                let first = await attempt { () async throws(StorageError) -> Int64 in
                    try await group.write { db in
                        holdWriter(of: group, until: 40, started: firstStarted)
                        try db.execute(sql: "INSERT INTO item (name) VALUES ('first')")
                        return db.lastInsertedRowID
                    }
                }
                return (0, first)
            }
            await until { firstStarted.isRaised }
            for index in 1...40 {
                tasks.addTask {
                    let result = await attempt { () async throws(StorageError) -> Int64 in
                        try await group.write { db in
                            // Write 7 stores a row, then breaks the unique name: its savepoint rolls back both, and only them.
                            if index == 7 { try db.execute(sql: "INSERT INTO item (name) VALUES ('item-7-partial')") }
                            try db.execute(sql: "INSERT INTO item (name) VALUES (?)", arguments: [index == 7 ? "first" : "item-\(index)"])
                            return db.lastInsertedRowID
                        }
                    }
                    return (index, result)
                }
            }
            var results: [Int: Result<Int64, StorageError>] = [:]
            for await (index, result) in tasks { results[index] = result }
            return results
        }

        #expect(results.count == 41)
        for (index, result) in results where index != 7 {
            #expect((try? result.get()) != nil, "write \(index) was stored")
        }
        guard case .failure(.constraintViolated) = results[7] else {
            Issue.record("write 7 should fail on the unique name, got \(String(describing: results[7]))")
            return
        }
        let names = try await pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM item ORDER BY id") }
        #expect(names.count == 40)
        #expect(Set(names) == Set(["first"] + (1...40).filter { $0 != 7 }.map { "item-\($0)" }))
        let commits = counter.commits.withLock { $0 }
        #expect(commits <= 3, "41 writes in \(commits) transactions: the 40 that waited went together")
    }

    @Test func aWriteWhoseSavepointCannotBeUndoneFailsItsWholeGroupAndStoresNothingOfIt() async throws {
        let (pool, folder) = try await itemDatabase(uniqueNames: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let group = GroupCommit(writer: pool)

        let firstStarted = Flag()
        let results = await withTaskGroup(of: (String, Result<Int64, StorageError>).self) { tasks in
            // The first write holds the writer until the others wait together behind it, the breaking one first.
            tasks.addTask {
                let first = await attempt { () async throws(StorageError) -> Int64 in
                    try await group.write { db in
                        holdWriter(of: group, until: 11, started: firstStarted)
                        try db.execute(sql: "INSERT INTO item (name) VALUES ('first')")
                        return db.lastInsertedRowID
                    }
                }
                return ("first", first)
            }
            await until { firstStarted.isRaised }
            tasks.addTask {
                let breaking = await attempt { () async throws(StorageError) -> Int64 in
                    try await group.write { db in
                        // Ends the group's transaction itself: its savepoint is gone, so it cannot be rolled back alone
                        // (GRDB then refuses every statement until the transaction's block returns).
                        try db.execute(sql: "INSERT INTO item (name) VALUES ('breaking')")
                        try db.execute(sql: "ROLLBACK")
                        throw DatabaseError(resultCode: .SQLITE_ERROR, message: "broken on purpose")
                    }
                }
                return ("breaking", breaking)
            }
            await until { group.waitingCount == 1 }
            for index in 1...10 {
                tasks.addTask {
                    let result = await attempt { () async throws(StorageError) -> Int64 in
                        try await group.write { db in
                            try db.execute(sql: "INSERT INTO item (name) VALUES (?)", arguments: ["item-\(index)"])
                            return db.lastInsertedRowID
                        }
                    }
                    return ("item-\(index)", result)
                }
            }
            var results: [String: Result<Int64, StorageError>] = [:]
            for await (name, result) in tasks { results[name] = result }
            return results
        }

        #expect(results.count == 12)
        #expect((try? results["first"]?.get()) != nil, "the group before is stored")
        for (name, result) in results where name != "first" {
            #expect((try? result.get()) == nil, "\(name) fails with its group: \(result)")
        }
        let names = try await pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM item ORDER BY id") }
        #expect(names == ["first"], "nothing of the failed group is stored")
        // The writer goes on: the next write is stored.
        let next = await attempt { () async throws(StorageError) -> Int64 in
            try await group.write { db in
                try db.execute(sql: "INSERT INTO item (name) VALUES ('next')")
                return db.lastInsertedRowID
            }
        }
        #expect((try? next.get()) != nil)
    }

    @Test func aLoneWriteIsWrittenAtOnce() async throws {
        let queue = try DatabaseQueue()
        try await queue.write { db in try db.execute(sql: "CREATE TABLE item (name TEXT)") }
        let group = GroupCommit(writer: queue)
        let started = ContinuousClock.now
        let count = try await group.write { db in
            try db.execute(sql: "INSERT INTO item (name) VALUES ('one')")
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") ?? 0
        }
        #expect(count == 1)
        #expect(ContinuousClock.now - started < .seconds(2), "no timer holds a lone write")
    }
}
