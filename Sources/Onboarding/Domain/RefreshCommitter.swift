/// Stores finished refreshes in group commits: the saves that arrive while one transaction is being written go
/// together in the next, so a pass with many refreshes in flight makes one write where it made dozens.
///
/// No save waits for a timer: a lone refresh (an admin's) is written at once. Each caller hears its own answer only
/// after its transaction committed, so the new tokens are stored before anything else happens, as with single saves.
actor RefreshCommitter {
    nonisolated let store: any TokenLifeStore
    private var waiting: [(save: RefreshSave, done: CheckedContinuation<Result<Bool, StorageError>, Never>)] = []
    private var writing = false

    /// The most saves one transaction holds.
    static let groupLimit = 256

    init(store: any TokenLifeStore) {
        self.store = store
    }

    /// Stores one refresh, with whichever others are waiting; true when stored, false when the row was revoked meanwhile.
    func save(_ save: RefreshSave) async throws(StorageError) -> Bool {
        let result = await withCheckedContinuation { done in
            waiting.append((save, done))
            if !writing {
                writing = true
                Task { await self.writeWaiting() }
            }
        }
        return try result.get()
    }

    private func writeWaiting() async {
        while !waiting.isEmpty {
            let group = Array(waiting.prefix(Self.groupLimit))
            waiting.removeFirst(group.count)
            let results = await Self.write(group.map(\.save), to: store)
            for (item, result) in zip(group, results) { item.done.resume(returning: result) }
        }
        writing = false
    }

    /// One transaction for the group; if it fails, each save alone, so one bad row does not fail the others.
    private static func write(_ saves: [RefreshSave], to store: any TokenLifeStore) async -> [Result<Bool, StorageError>] {
        do {
            return try await store.saveRefreshedTokens(saves).map { .success($0) }
        } catch {
            guard saves.count > 1 else { return [.failure(error)] }
            var results: [Result<Bool, StorageError>] = []
            for save in saves {
                do {
                    results.append(.success(try await store.saveRefreshedTokens([save]).first ?? false))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }
}
