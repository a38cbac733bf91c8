import Foundation
import Logging

/// What one status sweep did: a count per outcome, never a result per connection, so a pass over any number of
/// connections holds the same memory.
struct StatusSweepReport: Sendable, Equatable {
    /// Connections due when the sweep began.
    var chosen = 0
    var valid = 0
    var expired = 0
    var revoked = 0
    var needsReauth = 0
    /// Square (or the database) did not answer; nothing changed, and the next sweep tries again.
    var unknown = 0
    /// Gone, or no longer active, by the time their turn came.
    var skipped = 0
    /// True when a shutdown stopped the sweep before every due connection was checked.
    var stoppedEarly = false

    /// Checks finished, whatever their outcome.
    var checked: Int { valid + expired + revoked + needsReauth + unknown + skipped }

    mutating func count(_ outcome: TokenStatusChecker.Outcome) {
        switch outcome {
        case .valid: valid += 1
        case .expired: expired += 1
        case .revoked: revoked += 1
        case .needsReauth: needsReauth += 1
        case .unknown: unknown += 1
        case .notCheckable, .notFound: skipped += 1
        }
    }

    /// One line for logs and the CLI.
    var summary: String {
        "\(chosen) due, \(valid) valid, \(expired) expired, \(revoked) revoked, \(needsReauth) need re-authorization, "
            + "\(unknown) not answered, \(skipped) skipped"
    }
}

extension TokenStatusChecker {
    /// How many due connections' ids the sweep reads at once: one index range per page, so pages can be small.
    static let sweepPageSize = 1_000

    /// Checks every active connection not checked within the status interval (never checked first, then the least
    /// recently checked), at most `refresh.concurrency` at once.
    ///
    /// The due set is read a page of ids at a time in (lastCheckedAt, id) order after the last id read, so each
    /// connection is checked at most once per sweep, even one whose check Square did not answer (it stays due).
    /// `shouldStop` is asked before each new check; checks already started finish. `onResult` hears each finished check
    /// (with the merchant id, when the connection was found); `progress` how many finished out of how many were due.
    func sweep(
        actor: AuditActor = .system,
        shouldStop: @escaping @Sendable () -> Bool = { false },
        progress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in },
        onResult: @escaping @Sendable (_ connectionId: Int64, _ merchantId: String?, _ outcome: Outcome) -> Void = { _, _, _ in }
    ) async throws -> StatusSweepReport {
        let cutoff = clock.now().addingTimeInterval(-settings.statusCheckInterval)
        let total = try await store.countConnectionsDueForStatusCheck(checkedBefore: cutoff)
        var report = StatusSweepReport(chosen: total)
        guard total > 0 else { return report }
        logger.info("Status sweep started", metadata: ["due": "\(total)", "concurrency": "\(settings.concurrency)"])
        progress(0, total)
        var failure: (any Error)?
        var lastLogged = ContinuousClock.now
        func finished(_ result: Checked) {
            report.count(result.outcome)
            onResult(result.id, result.merchantId, result.outcome)
            progress(report.checked, max(total, report.checked))
            if ContinuousClock.now - lastLogged >= .seconds(10) {
                lastLogged = .now
                logger.info("Status sweep progress", metadata: ["checked": "\(report.checked)", "due": "\(total)"])
            }
        }
        await withTaskGroup(of: Checked.self) { group in
            var page: ArraySlice<DueStatusCheck> = []
            var last: DueStatusCheck?
            var readAll = false
            var limit = ConcurrencyLimit(settings.concurrency)
            while true {
                if let result = await limit.waitForSlot(in: &group) {
                    finished(result)
                }
                // Asked after waiting for a free slot, right before starting: a shutdown may have begun.
                if shouldStop() {
                    report.stoppedEarly = true
                    break
                }
                if page.isEmpty {
                    guard !readAll else { break }
                    do {
                        let ids = try await store.connectionsDueForStatusCheck(checkedBefore: cutoff, after: last, limit: Self.sweepPageSize)
                        readAll = ids.count < Self.sweepPageSize
                        last = ids.last ?? last
                        page = ArraySlice(ids)
                    } catch {
                        failure = error
                        break
                    }
                    if page.isEmpty { break }
                }
                let id = page.removeFirst().id
                limit.add(to: &group) {
                    let (merchantId, outcome) = await self.check(connectionId: id, actor: actor, auditUnchanged: false)
                    return Checked(id: id, merchantId: merchantId, outcome: outcome)
                }
            }
            for await result in group { finished(result) }
        }
        logger.info("Status sweep finished", metadata: ["summary": "\(report.summary)"])
        if let failure { throw failure }
        return report
    }

    /// One finished check of a sweep.
    private struct Checked: Sendable {
        var id: Int64
        var merchantId: String?
        var outcome: Outcome
    }
}
