import Foundation

/// One API key of a partner, as a hash: the key itself is shown once, when it is made.
struct PartnerApiKeyRecord: Codable, Sendable, Equatable {
    var id: Int64?
    var partnerId: String
    /// The key's first part (`sok_XXXXXXXX`), unique: how a request's key is found and how people recognise it.
    var prefix: String
    /// SHA-256 of the whole key, hex; keys are 256-bit random, so a fast hash is enough.
    var keyHash: String
    var createdAt: Date
    var lastUsedAt: Date?
    var revokedAt: Date?
}
