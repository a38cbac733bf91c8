import Foundation
import GRDB

extension AppDatabase {
    func addPartner(_ partner: PartnerRecord, key: PartnerApiKeyRecord, audit: AuditEventRecord) async throws(StorageError) -> PartnerRecord? {
        try await write { db in
            guard try PartnerRecord.filter(PartnerRecord.Columns.name == partner.name).fetchOne(db) == nil else { return nil }
            try partner.insert(db)
            var key = key
            try key.insert(db)
            var audit = audit
            try audit.insert(db)
            return partner
        }
    }

    func partner(named name: String) async throws(StorageError) -> PartnerRecord? {
        try await read { db in try PartnerRecord.filter(PartnerRecord.Columns.name == name).fetchOne(db) }
    }

    func partner(id: String) async throws(StorageError) -> PartnerRecord? {
        try await read { db in try PartnerRecord.fetchOne(db, key: id) }
    }

    func allPartners() async throws(StorageError) -> [PartnerRecord] {
        try await read { db in try PartnerRecord.order(PartnerRecord.Columns.name).fetchAll(db) }
    }

    func updatePartner(_ partner: PartnerRecord, audit: AuditEventRecord) async throws(StorageError) -> Bool {
        try await write { db in
            guard try PartnerRecord.exists(db, key: partner.id) else { return false }
            try partner.update(db)
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    func removePartner(named name: String, audit: AuditEventRecord) async throws(StorageError) -> PartnerRecord? {
        try await write { db in
            guard let partner = try PartnerRecord.filter(PartnerRecord.Columns.name == name).fetchOne(db) else { return nil }
            try partner.delete(db)
            var audit = audit
            try audit.insert(db)
            return partner
        }
    }

    func addPartnerKey(_ key: PartnerApiKeyRecord, audit: AuditEventRecord) async throws(StorageError) -> Bool {
        try await write { db in
            guard try PartnerRecord.exists(db, key: key.partnerId) else { return false }
            var key = key
            try key.insert(db)
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    func revokePartnerKey(partnerId: String, prefix: String, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool {
        try await write { db in
            let changed =
                try PartnerApiKeyRecord
                .filter(PartnerApiKeyRecord.Columns.partnerId == partnerId && PartnerApiKeyRecord.Columns.prefix == prefix)
                .filter(PartnerApiKeyRecord.Columns.revokedAt == nil)
                .updateAll(db, PartnerApiKeyRecord.Columns.revokedAt.set(to: now))
            guard changed > 0 else { return false }
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    func partnerKeys(partnerId: String) async throws(StorageError) -> [PartnerApiKeyRecord] {
        try await read { db in
            try PartnerApiKeyRecord.filter(PartnerApiKeyRecord.Columns.partnerId == partnerId)
                .order(PartnerApiKeyRecord.Columns.id.desc).fetchAll(db)
        }
    }

    func partnerKey(prefix: String) async throws(StorageError) -> PartnerKeyMatch? {
        try await read { db in
            guard
                let key = try PartnerApiKeyRecord.filter(PartnerApiKeyRecord.Columns.prefix == prefix)
                    .filter(PartnerApiKeyRecord.Columns.revokedAt == nil).fetchOne(db),
                let partner = try PartnerRecord.fetchOne(db, key: key.partnerId)
            else { return nil }
            return PartnerKeyMatch(key: key, partner: partner)
        }
    }

    func recordPartnerKeyUse(keyId: Int64, now: Date) async throws(StorageError) {
        _ = try await write { db in
            try PartnerApiKeyRecord.filter(key: keyId)
                .filter(PartnerApiKeyRecord.Columns.lastUsedAt == nil || PartnerApiKeyRecord.Columns.lastUsedAt < now.addingTimeInterval(-60))
                .updateAll(db, PartnerApiKeyRecord.Columns.lastUsedAt.set(to: now))
        }
    }

    func replacePartnerSecret(partnerId: String, sealed: String, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool {
        try await write { db in
            guard var partner = try PartnerRecord.fetchOne(db, key: partnerId) else { return false }
            partner.webhookSecretSealed = sealed
            partner.updatedAt = now
            try partner.update(db)
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    func createOnboardingLink(_ link: OnboardingLinkRecord, audit: AuditEventRecord) async throws(StorageError) {
        try await write { db in
            try link.insert(db)
            var audit = audit
            try audit.insert(db)
        }
    }

    func onboardingLink(id: String) async throws(StorageError) -> OnboardingLinkRecord? {
        try await read { db in try OnboardingLinkRecord.fetchOne(db, key: id) }
    }

    func cancelOnboardingLink(
        id: String,
        partnerId: String,
        now: Date,
        audit: AuditEventRecord
    ) async throws(StorageError)
        -> OnboardingLinkRecord?
    {
        try await write { db in
            guard var link = try OnboardingLinkRecord.fetchOne(db, key: id), link.partnerId == partnerId else { return nil }
            guard link.status(at: now) == .open else { return link }
            link.cancelledAt = now
            try link.update(db)
            var audit = audit
            try audit.insert(db)
            return link
        }
    }

    func idempotentAnswer(partnerId: String, key: String) async throws(StorageError) -> IdempotencyKeyRecord? {
        try await read { db in try IdempotencyKeyRecord.fetchOne(db, key: ["partnerId": partnerId, "key": key]) }
    }

    func keepIdempotentAnswer(_ answer: IdempotencyKeyRecord) async throws(StorageError) -> IdempotencyKeyRecord {
        try await write { db in
            if let first = try IdempotencyKeyRecord.fetchOne(db, key: ["partnerId": answer.partnerId, "key": answer.key]) {
                return first
            }
            try answer.insert(db)
            return answer
        }
    }
}
