import Foundation
import GRDB

/// What handling an inbound Square event did.
enum SquareEventResult: Sendable, Equatable {
    /// The event id was seen before: Square retried; nothing was done again.
    case duplicate
    /// The connection was marked revoked.
    case revoked(merchantId: String)
    /// Recorded, but no connection needed a change (unknown merchant, already revoked, other event type).
    case noChange
}

extension AppDatabase {
    /// Records a Square event once and, for `oauth.authorization.revoked`, revokes the connection, in one transaction.
    func applySquareEvent(
        eventId: String,
        type: String,
        merchantId: String?,
        environment: String,
        revokedBy: String?,
        now: Date
    ) throws -> SquareEventResult {
        try writer.write { db in
            guard try SquareEventRecord.fetchOne(db, key: eventId) == nil else { return .duplicate }
            try SquareEventRecord(eventId: eventId, type: type, merchantId: merchantId, receivedAt: now).insert(db)
            guard type == "oauth.authorization.revoked", let merchantId, let revokedBy,
                var connection =
                    try ConnectionRecord
                    .filter(ConnectionRecord.Columns.environment == environment)
                    .filter(ConnectionRecord.Columns.merchantId == merchantId)
                    .fetchOne(db),
                connection.status != ConnectionStatus.revoked.rawValue
            else { return .noChange }
            connection.revoke(by: revokedBy, at: now)
            try connection.update(db)
            var audit = AuditEventRecord(
                occurredAt: now,
                actor: "square",
                action: "connection.revoked",
                merchantId: merchantId,
                detail: "webhook event \(eventId): revoked by \(revokedBy)"
            )
            try audit.insert(db)
            return .revoked(merchantId: merchantId)
        }
    }
}
