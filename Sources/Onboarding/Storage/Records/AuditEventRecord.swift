import Foundation

/// Append-only record of who did what; never holds a secret.
struct AuditEventRecord: Codable, Sendable, Equatable {
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
}
