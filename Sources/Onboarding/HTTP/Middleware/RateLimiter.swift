import Synchronization

/// A token bucket per client, in memory: `perMinute` requests in a burst, then one every `60 / perMinute` seconds.
///
/// Memory is bounded: at `maxClients` buckets, the ones that have refilled (idle clients, which carry no information)
/// are dropped, and if that is not enough the least recently seen half.
final class RateLimiter: Sendable {
    /// What a client may do now.
    enum Decision: Equatable, Sendable {
        case allowed
        /// Refused; a token is back after `retryAfterSeconds`. `isFirst` is true for the first refusal since the client
        /// was last allowed, so a flood is logged once, not per request.
        case limited(retryAfterSeconds: Int, isFirst: Bool)
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
        var refused = false
    }

    let perMinute: Int
    let maxClients: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let buckets = Mutex<[String: Bucket]>([:])

    init(perMinute: Int, maxClients: Int = 10_000, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        precondition(perMinute > 0 && maxClients > 1)
        self.perMinute = perMinute
        self.maxClients = maxClients
        self.now = now
    }

    /// What a take left: the decision, the whole tokens left, and the seconds until the bucket is full again.
    struct Quota: Equatable, Sendable {
        var decision: Decision
        var remaining: Int
        var fullInSeconds: Int
    }

    /// Takes one token from `client`'s bucket, if it has one.
    func take(for client: String) -> Decision { takeCounting(for: client).decision }

    /// Takes one token from `client`'s bucket, if it has one, and says what is left (for `RateLimit-*` headers).
    func takeCounting(for client: String) -> Quota {
        let now = now()
        return buckets.withLock { buckets in
            if buckets[client] == nil, buckets.count >= maxClients { evict(&buckets, at: now) }
            var bucket = buckets[client].map { refilled($0, at: now) } ?? Bucket(tokens: capacity, updated: now)
            defer { buckets[client] = bucket }
            guard bucket.tokens >= 1 else {
                let isFirst = !bucket.refused
                bucket.refused = true
                let wait = ((1 - bucket.tokens) / refillPerSecond).rounded(.up)
                return Quota(
                    decision: .limited(retryAfterSeconds: max(1, Int(wait)), isFirst: isFirst),
                    remaining: 0,
                    fullInSeconds: Int(((capacity - bucket.tokens) / refillPerSecond).rounded(.up))
                )
            }
            bucket.tokens -= 1
            bucket.refused = false
            return Quota(
                decision: .allowed,
                remaining: Int(bucket.tokens),
                fullInSeconds: Int(((capacity - bucket.tokens) / refillPerSecond).rounded(.up))
            )
        }
    }

    /// How many clients are remembered now.
    var clientCount: Int { buckets.withLock { $0.count } }

    private var capacity: Double { Double(perMinute) }
    private var refillPerSecond: Double { Double(perMinute) / 60 }

    private func refilled(_ bucket: Bucket, at now: ContinuousClock.Instant) -> Bucket {
        let elapsed = (now - bucket.updated) / .seconds(1)
        var bucket = bucket
        bucket.tokens = min(capacity, bucket.tokens + max(0, elapsed) * refillPerSecond)
        bucket.updated = now
        return bucket
    }

    private func evict(_ buckets: inout [String: Bucket], at now: ContinuousClock.Instant) {
        buckets = buckets.filter { refilled($0.value, at: now).tokens < capacity }
        guard buckets.count >= maxClients else { return }
        let newest = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(maxClients / 2)
        buckets = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }
}
