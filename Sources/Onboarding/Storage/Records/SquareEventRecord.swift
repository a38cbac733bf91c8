import Foundation

/// A Square webhook event already handled, kept so Square's retries are answered without acting twice.
struct SquareEventRecord: Codable, Sendable, Equatable {
    var eventId: String
    var type: String
    var merchantId: String?
    var receivedAt: Date
}
