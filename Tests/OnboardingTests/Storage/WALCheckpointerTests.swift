import Foundation
import Logging
import Testing

@testable import Onboarding

@Suite("WAL checkpoints beside the writer")
struct WALCheckpointerTests {
    /// A fresh database file in its own folder, removed afterwards.
    private func withDatabasePath(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wal-checkpointer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory.appendingPathComponent("square-onboard.sqlite").path)
    }

    /// About 3 WAL frames per write: 1,500 writes of an 8 KB row each in its own transaction.
    private func fill(_ store: AppDatabase) async throws {
        try await store.write { db in try db.execute(sql: "CREATE TABLE filler (bytes BLOB NOT NULL)") }
        for _ in 0..<1500 {
            try await store.write { db in try db.execute(sql: "INSERT INTO filler (bytes) VALUES (zeroblob(8000))") }
        }
    }

    @Test func theWriterLeavesTheWALToTheCheckpointerWhichCopiesItAll() async throws {
        try await withDatabasePath { path in
            let store = try AppDatabase.open(path: path, automaticCheckpointPages: WALCheckpointer.writerSafetyPages)
            let checkpointer = try WALCheckpointer(databasePath: path, logger: Logger(label: "test"))
            try await fill(store)
            let (frames, checkpointed) = try await checkpointer.checkpoint()
            // The writer's own checkpoint (every 1,000 pages by default) would have restarted the WAL long before.
            #expect(frames > 3000, "the writer left its WAL alone: \(frames) frames")
            #expect(checkpointed == frames, "every frame is in the database file now")
            let rows = try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM filler") }
            #expect(rows == 1500)
        }
    }

    @Test func withoutTheCheckpointerTheWriterStillCheckpointsEveryThousandPages() async throws {
        try await withDatabasePath { path in
            let store = try AppDatabase.open(path: path)
            try await fill(store)
            let (frames, _) = try await WALCheckpointer(databasePath: path, logger: Logger(label: "test")).checkpoint()
            #expect(frames < 1100, "the WAL restarted after each automatic checkpoint: \(frames) frames")
        }
    }

    /// The `-wal` file's size after 10 rounds of 150 writes, 100 ms apart, with or without the service running.
    private func walSizeAfterSlowWrites(runningTheService: Bool) async throws -> Int {
        var size = 0
        try await withDatabasePath { path in
            let store = try AppDatabase.open(path: path, automaticCheckpointPages: WALCheckpointer.writerSafetyPages)
            let checkpointer = try WALCheckpointer(databasePath: path, logger: Logger(label: "test"))
            let running = runningTheService ? Task { try await checkpointer.run() } : nil
            try await store.write { db in try db.execute(sql: "CREATE TABLE filler (bytes BLOB NOT NULL)") }
            for _ in 0..<10 {
                for _ in 0..<150 {
                    try await store.write { db in try db.execute(sql: "INSERT INTO filler (bytes) VALUES (zeroblob(8000))") }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            size = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0
            running?.cancel()
            if let running { _ = try await running.value }
        }
        return size
    }

    @Test func theServiceKeepsTheWALSmallWhileWritesComeInAndStopsWhenCancelled() async throws {
        let alone = try await walSizeAfterSlowWrites(runningTheService: false)
        let withService = try await walSizeAfterSlowWrites(runningTheService: true)
        // Checkpointed every 50 ms while it grows, the WAL restarts from its start instead of growing past 3,000 frames.
        #expect(alone > 12_000_000, "without checkpoints the WAL holds every write: \(alone) bytes")
        #expect(withService * 3 < alone, "with the service the WAL is reused: \(withService) against \(alone) bytes")
    }

    @Test func theWriterKeepsItsSavepointJournalsInMemoryAndReadersKeepSQLiteDefault() async throws {
        try await withDatabasePath { path in
            let store = try AppDatabase.open(path: path)
            // 2 is MEMORY: the grouped writes' savepoint journals never spill to a temporary file.
            let writer = try await store.write { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }
            let reader = try await store.read { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }
            #expect(writer == 2)
            #expect(reader == 0, "a reader's large sorts may still use temporary files")
        }
    }
}
