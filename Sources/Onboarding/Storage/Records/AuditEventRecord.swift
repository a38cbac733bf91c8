import Foundation
import GRDB

/// Append-only record of who did what; never holds a secret.
struct AuditEventRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "auditEvent"

    var id: Int64?
    var occurredAt: Date
    var actor: AuditActor
    var action: AuditAction
    var merchantId: String?
    var detail: String

    init(occurredAt: Date, actor: AuditActor, action: AuditAction, merchantId: String? = nil, detail: String = "") {
        self.occurredAt = occurredAt
        self.actor = actor
        self.action = action
        self.merchantId = merchantId
        self.detail = detail
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let action = Column(CodingKeys.action)
        static let merchantId = Column(CodingKeys.merchantId)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
