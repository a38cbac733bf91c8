import Foundation
import GRDB

extension AppDatabase {
    func applySquareEvent(
        _ event: SquareEventRecord,
        environment: String,
        revokedBy: String?
    ) async throws(StorageError)
        -> SquareEventResult
    {
        try await write { db in
            guard try SquareEventRecord.fetchOne(db, key: event.eventId) == nil else { return .duplicate }
            try event.insert(db)
            guard event.type == "oauth.authorization.revoked", let merchantId = event.merchantId, let revokedBy,
                var connection = try Self.connection(db, environment: environment, merchantId: merchantId)
            else { return .noChange }
            var audit = AuditEventRecord(
                occurredAt: event.receivedAt,
                actor: .square,
                action: .connectionRevoked,
                merchantId: merchantId,
                detail: "webhook event \(event.eventId): revoked by \(revokedBy)"
            )
            // Already revoked, or our own revoke is in flight and will record it: Square's word is a confirmation.
            if connection.status == .revoked || connection.isBeingRevoked(at: event.receivedAt) {
                audit.action = .revocationConfirmed
                try audit.insert(db)
                return .confirmed(merchantId: merchantId)
            }
            connection.revoke(by: revokedBy, at: event.receivedAt)
            try connection.update(db)
            try audit.insert(db)
            return .revoked(merchantId: merchantId)
        }
    }
}
