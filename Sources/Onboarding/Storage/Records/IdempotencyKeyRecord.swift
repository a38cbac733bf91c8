import Foundation

/// A partner's `Idempotency-Key` and the answer its first request got, replayed for a retry of the same request.
struct IdempotencyKeyRecord: Codable, Sendable, Equatable {
    var partnerId: String
    var key: String
    /// SHA-256 of method, path and body: the same key with another request is refused, not replayed.
    var requestHash: String
    var status: Int
    /// The JSON answer; never one that holds a token (the access-token endpoint stores none).
    var body: String
    var createdAt: Date
}
