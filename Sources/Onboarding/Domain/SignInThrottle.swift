import Foundation
import Synchronization

/// Counts failed sign-ins per key (an account name, a client address) over a sliding window, in this process.
///
/// A key with `limit` failures inside the window is refused until the oldest of them leaves it. A try counts as a
/// failure from the moment it is let through, so tries made at the same moment cannot pass the limit together; a
/// good one is taken back. The table is bounded: past `capacity` keys, the keys whose last failure is oldest go first.
final class SignInThrottle: Sendable {
    let limit: Int
    let window: TimeInterval
    let capacity: Int
    private let failures = Mutex<[String: [Date]]>([:])

    init(limit: Int, window: TimeInterval, capacity: Int = 10_000) {
        self.limit = limit
        self.window = window
        self.capacity = capacity
    }

    /// Lets a try through and counts it against every key; refused, the whole seconds until all keys may try again.
    func attempt(_ keys: [String], now: Date) -> Int? {
        let cutoff = now.addingTimeInterval(-window)
        let refusedUntil: Date? = failures.withLock { table in
            var until: Date?
            for key in keys {
                let recent = (table[key] ?? []).filter { $0 > cutoff }
                table[key] = recent.isEmpty ? nil : recent
                // Once this failure leaves the window, fewer than `limit` remain.
                if recent.count >= limit { until = max(until ?? .distantPast, recent[recent.count - limit].addingTimeInterval(window)) }
            }
            guard until == nil else { return until }
            for key in keys { table[key, default: []].append(now) }
            if table.count > capacity { Self.evict(&table, keeping: capacity, cutoff: cutoff) }
            return nil
        }
        return refusedUntil.map { max(1, Int($0.timeIntervalSince(now).rounded(.up))) }
    }

    /// Takes back a try that succeeded: the `cleared` key forgets all its failures, the other keys this try only.
    func succeeded(_ keys: [String], at time: Date, clearing cleared: String?) {
        failures.withLock { table in
            for key in keys {
                if key == cleared {
                    table[key] = nil
                } else if let index = table[key]?.lastIndex(of: time) {
                    table[key]?.remove(at: index)
                    if table[key]?.isEmpty == true { table[key] = nil }
                }
            }
        }
    }

    /// How many keys are counted now (for tests).
    var keyCount: Int { failures.withLock { $0.count } }

    private static func evict(_ table: inout [String: [Date]], keeping capacity: Int, cutoff: Date) {
        table = table.filter { $0.value.contains { $0 > cutoff } }
        guard table.count > capacity else { return }
        let oldestFirst = table.sorted { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }
        for (key, _) in oldestFirst.prefix(table.count - capacity) { table[key] = nil }
    }
}
