import Foundation

/// The partner API's kept answers to `Idempotency-Key` requests.
protocol IdempotencyStore: Sendable {
    /// The answer first given for a partner's idempotency key.
    func idempotentAnswer(partnerId: String, key: String) async throws(StorageError) -> IdempotencyKeyRecord?

    /// Keeps the first answer for a key; a second writer's answer is dropped and the first one returned.
    func keepIdempotentAnswer(_ answer: IdempotencyKeyRecord) async throws(StorageError) -> IdempotencyKeyRecord
}
