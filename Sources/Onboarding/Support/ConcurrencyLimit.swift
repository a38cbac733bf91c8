/// At most `limit` children of a task group at once: `waitForSlot` waits, when `limit` run, for one to finish and
/// returns its result; `add` starts one. The refresh passes, the status sweep, the partner webhook dispatcher and the
/// new connections' checks bound their work with it.
struct ConcurrencyLimit {
    let limit: Int
    /// How many children started through it are still running.
    private(set) var running = 0

    init(_ limit: Int) {
        self.limit = max(1, limit)
    }

    /// When `limit` children run, waits for one to finish and returns its result; nil when a slot is free already.
    /// Runs on the caller's actor (`isolation`), as the task group's own `next()` does.
    @discardableResult
    mutating func waitForSlot<Result: Sendable>(
        in group: inout TaskGroup<Result>,
        isolation: isolated (any Actor)? = #isolation
    ) async -> Result? {
        guard running >= limit, let result = await group.next() else { return nil }
        running -= 1
        return result
    }

    /// Starts `operation` as a child of `group` (after `waitForSlot`).
    mutating func add<Result: Sendable>(to group: inout TaskGroup<Result>, _ operation: @escaping @Sendable () async -> Result) {
        running += 1
        group.addTask { await operation() }
    }
}
