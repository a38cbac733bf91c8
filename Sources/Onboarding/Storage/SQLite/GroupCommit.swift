import GRDB
import Synchronization

/// Writes the callers' small transactions in group commits: the writes that arrive while one transaction is being
/// written go together in the next, each in its own savepoint.
///
/// Under load (many callbacks at once) SQLite then appends, writes and syncs the WAL once per group instead of once
/// per write. No write waits for a timer: a lone write runs at once. Each caller hears its answer only after the
/// group committed; a write that throws rolls back its own savepoint and fails alone.
final class GroupCommit: Sendable {
    private let writer: any DatabaseWriter
    private let state = Mutex<(waiting: [any GroupedWrite], writing: Bool)>(([], false))

    /// The most writes one transaction holds.
    static let groupLimit = 128

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `updates` in the next group's transaction and returns its value once that transaction committed.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws(StorageError) -> T {
        let result: Result<T, StorageError> = await withCheckedContinuation { continuation in
            let pending = PendingWrite(updates: updates, continuation: continuation)
            let startWriting = state.withLock { state in
                state.waiting.append(pending)
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if startWriting { Task { await self.writeWaiting() } }
        }
        return try result.get()
    }

    /// How many writes wait for the next group (for tests that need writes to wait together).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// The most groups the writer commits in one turn on its queue before other work there gets a turn.
    static let groupsPerTurn = 8

    private func writeWaiting() async {
        var group = nextGroup()
        while !group.isEmpty {
            let first = group
            do {
                // The groups that wait are committed one after the other on the writer's queue: no hop back to the
                // async pool, where the next group's turn would queue behind the requests' own work.
                let drained = try await writer.writeWithoutTransaction { db in
                    var current = first
                    for _ in 1..<Self.groupsPerTurn {
                        Self.commit(current, in: db)
                        current = self.nextGroup()
                        if current.isEmpty { return true }
                    }
                    Self.commit(current, in: db)
                    return false
                }
                if drained { return }
            } catch {
                // The writer could not be reached (the database is closed): nothing of `first` ran.
                let failure = StorageError(error)
                for write in first { write.finish(failure: failure) }
            }
            group = nextGroup()
        }
    }

    /// Takes the next group; none left means the writing stops (and the next write starts it again).
    private func nextGroup() -> [any GroupedWrite] {
        state.withLock { state in
            let group = Array(state.waiting.prefix(Self.groupLimit))
            state.waiting.removeFirst(group.count)
            if group.isEmpty { state.writing = false }
            return group
        }
    }

    /// Commits one group's writes in one transaction and answers their callers.
    private static func commit(_ group: [any GroupedWrite], in db: Database) {
        do {
            try db.inTransaction(.immediate) {
                for write in group { try write.run(db) }
                return .commit
            }
            for write in group { write.finish(failure: nil) }
        } catch {
            let failure = StorageError(error)
            for write in group { write.finish(failure: failure) }
        }
    }
}

/// One caller's write waiting for its group.
private protocol GroupedWrite: Sendable {
    /// Runs the write in a savepoint of the group's transaction, on the writer's queue; throws only when its savepoint
    /// cannot be rolled back, which fails the whole group.
    func run(_ db: Database) throws
    /// Answers the caller: with the write's own outcome when the group committed, else with the group's failure.
    func finish(failure: StorageError?)
}

// `outcome` is set on the writer's queue inside the group's transaction and read after that transaction has returned.
private final class PendingWrite<T: Sendable>: GroupedWrite, @unchecked Sendable {
    let updates: @Sendable (Database) throws -> T
    let continuation: CheckedContinuation<Result<T, StorageError>, Never>
    private var outcome: Result<T, StorageError> = .failure(.unavailable("the group's transaction did not run the write"))

    init(updates: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<Result<T, StorageError>, Never>) {
        self.updates = updates
        self.continuation = continuation
    }

    func run(_ db: Database) throws {
        // GRDB's `inSavepoint` prepares its SAVEPOINT and RELEASE anew each time; on the one writer, for every write,
        // cached statements are worth it.
        do {
            try db.cachedStatement(sql: "SAVEPOINT groupedWrite").execute()
        } catch {
            outcome = .failure(StorageError(error))
            return
        }
        do {
            let value = try updates(db)
            try db.cachedStatement(sql: "RELEASE SAVEPOINT groupedWrite").execute()
            outcome = .success(value)
        } catch {
            outcome = .failure(StorageError(error))
            // This write alone is undone; the group's transaction and the other writes in it go on. If it cannot be
            // undone (SQLite ended the transaction), the group stops here and all of it fails: no write runs outside
            // the transaction, and none is stored while its caller hears it failed.
            try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT groupedWrite").execute()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT groupedWrite").execute()
        }
    }

    func finish(failure: StorageError?) {
        continuation.resume(returning: failure.map { .failure($0) } ?? outcome)
    }
}
