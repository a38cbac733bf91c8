import Foundation
import GRDB

/// A Square webhook event already handled, kept so Square's retries are answered without acting twice.
struct SquareEventRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "squareEvent"

    var eventId: String
    var type: String
    var merchantId: String?
    var receivedAt: Date
}
