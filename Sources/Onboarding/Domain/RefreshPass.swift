import Foundation

/// What one pass over the due connections did.
struct RefreshPassReport: Sendable {
    var results: [(merchantId: String, outcome: TokenRefresher.Outcome)] = []
    /// Connections chosen at the start of the pass.
    var chosen = 0
    /// True when a shutdown stopped the pass before every chosen connection was tried.
    var stoppedEarly = false

    var refreshed: Int { results.count { if case .refreshed = $0.outcome { true } else { false } } }
    var needsReauth: Int { results.count { if case .needsReauth = $0.outcome { true } else { false } } }
    var retryLater: Int { results.count { if case .retryLater = $0.outcome { true } else { false } } }
    var skipped: Int { results.count - refreshed - needsReauth - retryLater }

    /// One line for logs and the CLI.
    var summary: String {
        "\(chosen) due, \(refreshed) refreshed, \(needsReauth) need re-authorization, \(retryLater) to retry later, \(skipped) skipped"
    }
}

extension TokenRefresher {
    /// Refreshes every due connection (or one merchant's, due or not) with bounded concurrency and jittered pacing.
    ///
    /// `shouldStop` is asked before each new refresh (graceful shutdown); refreshes already started always finish.
    func runPass(
        merchantId: String? = nil,
        actor: AuditActor = .system,
        shouldStop: @escaping @Sendable () -> Bool = { false },
        progress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> RefreshPassReport {
        let now = clock.now()
        let force = merchantId != nil
        let total: Int
        var pending: [ConnectionRecord]
        if let merchantId {
            pending = try await store.allConnections().filter { $0.merchantId == merchantId }
            total = pending.count
        } else {
            total = try await store.countConnectionsDueForRefresh(settings: settings, now: now)
            pending = []
        }
        progress(0, total)
        var results: [(merchantId: String, outcome: Outcome)] = []
        var tried: Set<Int64> = []
        var stoppedEarly = false
        // The due set is read from the database a batch at a time, so memory stays flat however many are due.
        while !stoppedEarly {
            if merchantId == nil {
                pending = try await store.connectionsDueForRefresh(settings: settings, now: now, merchantId: nil, limit: Self.batchSize)
                    .filter { !tried.contains($0.id!) }
            }
            guard !pending.isEmpty else { break }
            tried.formUnion(pending.map { $0.id! })
            let done = results.count
            let (batch, stopped) = await refreshAll(pending, actor: actor, force: force, shouldStop: shouldStop) { finished in
                progress(done + finished, max(total, done + finished))
            }
            results += batch
            stoppedEarly = stopped
            if merchantId != nil { break }
        }
        return RefreshPassReport(results: results, chosen: max(total, tried.count), stoppedEarly: stoppedEarly)
    }

    /// How many due connections a pass reads from the database at once.
    static let batchSize = 500

    /// Refreshes `connections` with bounded concurrency and jittered pacing; `progress` hears how many have finished.
    private func refreshAll(
        _ connections: [ConnectionRecord],
        actor: AuditActor,
        force: Bool,
        shouldStop: @escaping @Sendable () -> Bool,
        progress: (Int) -> Void
    ) async -> (results: [(merchantId: String, outcome: Outcome)], stoppedEarly: Bool) {
        await withTaskGroup(of: (String, Outcome).self) { group in
            var results: [(merchantId: String, outcome: Outcome)] = []
            var stoppedEarly = false
            var running = 0
            for connection in connections {
                if running == settings.concurrency, let finished = await group.next() {
                    running -= 1
                    results.append(finished)
                    progress(results.count)
                }
                if running > 0, settings.pacing > .zero {
                    try? await Task.sleep(for: settings.pacing * Double.random(in: 0...1))
                }
                // Asked after waiting for a free slot and the pause, right before starting: a shutdown may have begun.
                if shouldStop() {
                    stoppedEarly = true
                    break
                }
                running += 1
                group.addTask {
                    (connection.merchantId, await self.refresh(connectionId: connection.id!, actor: actor, force: force))
                }
            }
            for await finished in group {
                results.append(finished)
                progress(results.count)
            }
            return (results, stoppedEarly)
        }
    }
}
