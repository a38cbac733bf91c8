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
                let id = try Self.connection(db, environment: environment, merchantId: merchantId)?.id
            else { return .noChange }
            var audit = AuditEventRecord(
                occurredAt: event.receivedAt,
                actor: .square,
                action: .connectionRevoked,
                merchantId: merchantId,
                detail: "webhook event \(event.eventId): revoked by \(revokedBy)"
            )
            let revoked = try Self.changeConnection(db, id: id) { current in
                guard ConnectionRules.squareRevocation(of: current, at: event.receivedAt) == .revoke else { return false }
                var revoked = current
                revoked.revoke(by: revokedBy, at: event.receivedAt)
                try revoked.update(db)
                return true
            }
            guard revoked == true else {
                audit.action = .revocationConfirmed
                try audit.insert(db)
                return .confirmed(merchantId: merchantId)
            }
            try audit.insert(db)
            return .revoked(merchantId: merchantId)
        }
    }
}
