import Foundation

/// A browser that just connected: lets it see its connection and disconnect it.
struct MerchantSessionRecord: Codable, Sendable, Equatable {
    var sessionHash: String
    var connectionId: Int64
    var csrfToken: String
    var createdAt: Date
    var expiresAt: Date
}
