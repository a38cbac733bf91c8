import Foundation

/// What one pass over the due connections did: counts per outcome, not a result per connection (each is handed to the
/// pass's `onResult` as it finishes), so a pass over 100,000 connections holds no list of them.
struct RefreshPassReport: Sendable {
    private(set) var refreshed = 0
    private(set) var needsReauth = 0
    private(set) var retryLater = 0
    /// Not refreshed and nothing to do: not due, busy elsewhere, no longer refreshable, gone, or revoked meanwhile.
    private(set) var skipped = 0
    /// Connections chosen at the start of the pass.
    var chosen = 0
    /// True when a shutdown stopped the pass before every chosen connection was tried.
    var stoppedEarly = false

    /// Connections whose refresh finished in this pass.
    var finished: Int { refreshed + needsReauth + retryLater + skipped }

    /// One line for logs and the CLI.
    var summary: String {
        "\(chosen) due, \(refreshed) refreshed, \(needsReauth) need re-authorization, \(retryLater) to retry later, \(skipped) skipped"
    }

    mutating func count(_ outcome: TokenRefresher.Outcome) {
        switch outcome {
        case .refreshed: refreshed += 1
        case .needsReauth: needsReauth += 1
        case .retryLater: retryLater += 1
        case .notDue, .busy, .notRefreshable, .notFound, .revokedMeanwhile: skipped += 1
        }
    }
}

extension TokenRefresher {
    /// Refreshes every due connection (or one merchant's, due or not) with bounded concurrency and jittered pacing.
    ///
    /// `shouldStop` is asked before each new refresh (graceful shutdown); refreshes already started always finish.
    /// `onResult` hears each connection's outcome as it finishes, then `progress` the count so far.
    func runPass(
        merchantId: String? = nil,
        actor: AuditActor = .system,
        shouldStop: @escaping @Sendable () -> Bool = { false },
        onResult: @escaping @Sendable (_ merchantId: String, _ outcome: Outcome) -> Void = { _, _ in },
        progress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> RefreshPassReport {
        guard let merchantId else {
            return try await refreshDue(actor: actor, shouldStop: shouldStop, onResult: onResult, progress: progress)
        }
        let pending = try await store.allConnections().filter { $0.merchantId == merchantId }
        progress(0, pending.count)
        var report = await refreshAll(pending, actor: actor, force: true, shouldStop: shouldStop) { report, merchant, outcome in
            onResult(merchant, outcome)
            progress(report.finished, pending.count)
        }
        report.chosen = pending.count
        return report
    }

    /// How many due connections' ids a pass reads at once; computing the due set costs in proportion to all due rows,
    /// so it is read in few large pages, and the rows are leased in small chunks as refreshes can start.
    static let pageSize = 10_000

    /// Reads the due set a page of ids at a time and leases it a chunk at a time, one transaction per chunk.
    ///
    /// A paced pass leases one row right before its refresh starts; an unpaced one a few rounds of refreshes at once, so
    /// no leased row waits long. Besides the report's counts, it holds the ids tried, a page of ids and the chunk in hand.
    private func refreshDue(
        actor: AuditActor,
        shouldStop: @escaping @Sendable () -> Bool,
        onResult: @escaping @Sendable (_ merchantId: String, _ outcome: Outcome) -> Void,
        progress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void
    ) async throws -> RefreshPassReport {
        let total = try await store.countConnectionsDueForRefresh(settings: settings, now: clock.now())
        progress(0, total)
        let chunk = settings.pacing > .zero ? 1 : 4 * settings.concurrency
        var report = RefreshPassReport()
        var failure: (any Error)?
        // Leases taken but not used (a shutdown began, or the row waited too long), released at the end.
        var unused: [Int64] = []
        // The ids leased so far, 8 bytes each (a Set would take three times that), sorted when a page is filtered.
        var tried: [Int64] = []
        func finish(_ merchantId: String, _ outcome: Outcome, into report: inout RefreshPassReport) {
            report.count(outcome)
            onResult(merchantId, outcome)
            progress(report.finished, max(total, report.finished))
        }
        await withTaskGroup(of: (String, Outcome).self) { group in
            var page: ArraySlice<Int64> = []
            var queue: ArraySlice<RefreshLease> = []
            var leasedAt = clock.now()
            var limit = ConcurrencyLimit(settings.concurrency)
            while true {
                if let (merchant, outcome) = await limit.waitForSlot(in: &group) {
                    finish(merchant, outcome, into: &report)
                }
                if limit.running > 0, settings.pacing > .zero {
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
                        tried.sort()
                        page = ArraySlice(ids.filter { !tried.sortedContains($0) })
                        if page.isEmpty { break }
                    }
                    if queue.isEmpty {
                        let ids = page.prefix(chunk)
                        page.removeFirst(ids.count)
                        tried += ids
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
                    unused.append(lease.connection.id)
                    continue
                }
                limit.add(to: &group) { (lease.connection.merchantId, await self.refresh(leased: lease, actor: actor)) }
            }
            unused += queue.map { $0.connection.id }
            for await (merchant, outcome) in group { finish(merchant, outcome, into: &report) }
        }
        if !unused.isEmpty {
            do {
                try await store.releaseLeases(connectionIds: unused, owner: owner)
            } catch {
                logger.error("Could not release unused refresh leases; they lapse on their own", metadata: ["error": "\(error)"])
            }
        }
        if let failure { throw failure }
        report.chosen = max(total, report.finished)
        return report
    }

    /// Refreshes `connections` with bounded concurrency and jittered pacing; `finished` hears each outcome once counted.
    private func refreshAll(
        _ connections: [ConnectionRecord],
        actor: AuditActor,
        force: Bool,
        shouldStop: @escaping @Sendable () -> Bool,
        finished: (RefreshPassReport, String, Outcome) -> Void
    ) async -> RefreshPassReport {
        await withTaskGroup(of: (String, Outcome).self) { group in
            var report = RefreshPassReport()
            func finish(_ merchantId: String, _ outcome: Outcome) {
                report.count(outcome)
                finished(report, merchantId, outcome)
            }
            var limit = ConcurrencyLimit(settings.concurrency)
            for connection in connections {
                if let (merchant, outcome) = await limit.waitForSlot(in: &group) {
                    finish(merchant, outcome)
                }
                if limit.running > 0, settings.pacing > .zero {
                    try? await Task.sleep(for: settings.pacing * Double.random(in: 0...1))
                }
                // Asked after waiting for a free slot and the pause, right before starting: a shutdown may have begun.
                if shouldStop() {
                    report.stoppedEarly = true
                    break
                }
                limit.add(to: &group) {
                    (connection.merchantId, await self.refresh(connectionId: connection.id, actor: actor, force: force))
                }
            }
            for await (merchant, outcome) in group { finish(merchant, outcome) }
            return report
        }
    }
}

extension [Int64] {
    /// Whether a sorted array holds `id` (binary search).
    fileprivate func sortedContains(_ id: Int64) -> Bool {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < count && self[low] == id
    }
}
