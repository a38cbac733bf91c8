import Foundation
import Synchronization

/// Counts failed sign-ins per key (an account name, a client address) over a sliding window, in this process.
///
/// A key with `limit` failures inside the window is refused until the oldest of them leaves it. The table is
/// bounded: past `capacity` keys, the keys whose last failure is oldest are forgotten first.
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

    /// Whole seconds until every key in `keys` may try again; nil when none of them is refused.
    func retryAfter(_ keys: [String], now: Date) -> Int? {
        let until = failures.withLock { table in
            keys.compactMap { key -> Date? in
                let recent = (table[key] ?? []).filter { $0 > now.addingTimeInterval(-window) }
                guard recent.count >= limit else { return nil }
                // Once this failure leaves the window, fewer than `limit` remain.
                return recent[recent.count - limit].addingTimeInterval(window)
            }.max()
        }
        return until.map { max(1, Int(($0.timeIntervalSince(now)).rounded(.up))) }
    }

    /// Counts one failure against each key.
    func recordFailure(_ keys: [String], now: Date) {
        let cutoff = now.addingTimeInterval(-window)
        failures.withLock { table in
            for key in keys {
                table[key] = (table[key] ?? []).filter { $0 > cutoff } + [now]
            }
            guard table.count > capacity else { return }
            table = table.filter { $0.value.contains { $0 > cutoff } }
            if table.count > capacity {
                let oldest = table.sorted { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }
                for (key, _) in oldest.prefix(table.count - capacity) { table[key] = nil }
            }
        }
    }

    /// Forgets the failures of one key (a good sign-in clears its account's count).
    func reset(_ key: String) {
        _ = failures.withLock { $0.removeValue(forKey: key) }
    }
}
