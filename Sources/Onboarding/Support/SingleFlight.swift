/// Runs one operation per key at a time in this process; callers that arrive meanwhile share its result.
actor SingleFlight<Key: Hashable & Sendable, Value: Sendable, Failure: Error> {
    private var running: [Key: Task<Result<Value, Failure>, Never>] = [:]

    /// The result of `operation` for `key`: a run already in flight for the key, or a new one.
    func run(_ key: Key, _ operation: @escaping @Sendable () async -> Result<Value, Failure>) async -> Result<Value, Failure> {
        if let task = running[key] { return await task.value }
        let task = Task { await operation() }
        running[key] = task
        let result = await task.value
        running[key] = nil
        return result
    }

    /// How many keys have an operation in flight.
    var inFlight: Int { running.count }
}
