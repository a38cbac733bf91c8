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
        guard let merchantId else { return try await refreshDue(actor: actor, shouldStop: shouldStop, progress: progress) }
        let pending = try await store.allConnections().filter { $0.merchantId == merchantId }
        progress(0, pending.count)
        let (results, stoppedEarly) = await refreshAll(pending, actor: actor, force: true, shouldStop: shouldStop) { finished in
            progress(finished, pending.count)
        }
        return RefreshPassReport(results: results, chosen: pending.count, stoppedEarly: stoppedEarly)
    }

    /// How many due connections' ids a pass reads at once; computing the due set costs in proportion to all due rows,
    /// so it is read in few large pages, and the rows are leased in small chunks as refreshes can start.
    static let pageSize = 10_000

    /// Reads the due set a page of ids at a time and leases it a chunk at a time, one transaction per chunk.
    ///
    /// A paced pass leases one row right before its refresh starts; an unpaced one a few rounds of refreshes at once, so
    /// no leased row waits long. Besides the report (a result per connection), it holds a page of ids and the chunk in hand.
    private func refreshDue(
        actor: AuditActor,
        shouldStop: @escaping @Sendable () -> Bool,
        progress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void
    ) async throws -> RefreshPassReport {
        let total = try await store.countConnectionsDueForRefresh(settings: settings, now: clock.now())
        progress(0, total)
        let chunk = settings.pacing > .zero ? 1 : 4 * settings.concurrency
        var report = RefreshPassReport()
        var failure: (any Error)?
        // Leases taken but not used (a shutdown began, or the row waited too long), released at the end.
        var unused: [Int64] = []
        var tried: Set<Int64> = []
        await withTaskGroup(of: (String, Outcome).self) { group in
            var page: ArraySlice<Int64> = []
            var queue: ArraySlice<RefreshLease> = []
            var leasedAt = clock.now()
            var running = 0
            while true {
                if running == settings.concurrency, let finished = await group.next() {
                    running -= 1
                    report.results.append(finished)
                    progress(report.results.count, max(total, report.results.count))
                }
                if running > 0, settings.pacing > .zero {
                    try? await Task.sleep(for: settings.pacing * Double.random(in: 0...1))
                }
                // Asked after waiting for a free slot and the pause, right before starting: a shutdown may have begun.
                if shouldStop() {
                    report.stoppedEarly = true
                    break
                }
                do {
                    if queue.isEmpty && page.isEmpty {
                        // Rows done in this pass are no longer due; one still due (Square's new token about to expire)
                        // is left for the next pass: once per pass is enough.
                        let ids = try await store.connectionIdsDueForRefresh(settings: settings, now: clock.now(), limit: Self.pageSize)
                        page = ArraySlice(ids.filter { !tried.contains($0) })
                        if page.isEmpty { break }
                    }
                    if queue.isEmpty {
                        let ids = page.prefix(chunk)
                        page.removeFirst(ids.count)
                        tried.formUnion(ids)
                        leasedAt = clock.now()
                        let leases = try await store.leaseForRefresh(connectionIds: Array(ids), owner: owner, settings: settings, now: leasedAt)
                        queue = ArraySlice(leases)
                        if queue.isEmpty { continue }
                    }
                } catch {
                    failure = error
                    break
                }
                let lease = queue.removeFirst()
                // The lease outlasts two Square calls; a row not started within half of it is let go, never refreshed late.
                guard clock.now() <= leasedAt.addingTimeInterval(settings.leaseDuration / 2) else {
                    unused.append(lease.connection.id!)
                    continue
                }
                running += 1
                group.addTask { (lease.connection.merchantId, await self.refresh(leased: lease, actor: actor)) }
            }
            unused += queue.map { $0.connection.id! }
            for await finished in group {
                report.results.append(finished)
                progress(report.results.count, max(total, report.results.count))
            }
        }
        if !unused.isEmpty {
            do {
                try await store.releaseLeases(connectionIds: unused, owner: owner)
            } catch {
                logger.error("Could not release unused refresh leases; they lapse on their own", metadata: ["error": "\(error)"])
            }
        }
        if let failure { throw failure }
        report.chosen = max(total, report.results.count)
        return report
    }

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
