import Foundation
import GRDB

/// A browser that just connected: lets it see its connection and disconnect it.
struct MerchantSessionRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "merchantSession"

    var sessionHash: String
    var connectionId: Int64
    var csrfToken: String
    var createdAt: Date
    var expiresAt: Date

    enum Columns {
        static let sessionHash = Column(CodingKeys.sessionHash)
    }
}
