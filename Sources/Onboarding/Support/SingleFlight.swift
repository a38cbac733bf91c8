/// Runs one operation per key at a time in this process; callers that arrive meanwhile share its result and are told
/// they joined. Disconnects and refreshes go through one each.
actor SingleFlight<Key: Hashable & Sendable, Value: Sendable, Failure: Error> {
    private var running: [Key: Task<Result<Value, Failure>, Never>] = [:]

    /// What a caller got: the operation's result, and whether another caller had started it.
    struct Answer: Sendable {
        var result: Result<Value, Failure>
        var joined: Bool
    }

    /// The result of `operation` for `key`: a run already in flight for the key (joined), or a new one.
    func run(_ key: Key, _ operation: @escaping @Sendable () async -> Result<Value, Failure>) async -> Answer {
        if let task = running[key] { return Answer(result: await task.value, joined: true) }
        let task = Task { await operation() }
        running[key] = task
        let result = await task.value
        running[key] = nil
        return Answer(result: result, joined: false)
    }

    /// How many keys have an operation in flight.
    var inFlight: Int { running.count }
}
