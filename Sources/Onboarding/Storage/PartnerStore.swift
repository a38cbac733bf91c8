import Foundation

/// Partners, their API keys and their signing secret.
protocol PartnerStore: Sendable {
    /// Adds a partner with its first API key and the audit event; nil when the name is taken.
    func addPartner(_ partner: PartnerRecord, key: PartnerApiKeyRecord, audit: AuditEventRecord) async throws(StorageError) -> PartnerRecord?

    func partner(named name: String) async throws(StorageError) -> PartnerRecord?

    func partner(id: String) async throws(StorageError) -> PartnerRecord?

    /// Every partner, by name.
    func allPartners() async throws(StorageError) -> [PartnerRecord]

    /// Replaces a partner's settings (found by id), with the audit event; false when it is gone.
    func updatePartner(_ partner: PartnerRecord, audit: AuditEventRecord) async throws(StorageError) -> Bool

    /// Removes a partner with its keys, links and idempotent answers (its connections stay), with the audit event.
    func removePartner(named name: String, audit: AuditEventRecord) async throws(StorageError) -> PartnerRecord?

    /// Adds one more API key to a partner, with the audit event; false when the partner is gone.
    func addPartnerKey(_ key: PartnerApiKeyRecord, audit: AuditEventRecord) async throws(StorageError) -> Bool

    /// Ends one of a partner's keys by its prefix, with the audit event; false when no live key has that prefix.
    func revokePartnerKey(partnerId: String, prefix: String, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool

    /// A partner's keys, newest first, revoked ones included.
    func partnerKeys(partnerId: String) async throws(StorageError) -> [PartnerApiKeyRecord]

    /// The live key with this prefix and its partner.
    func partnerKey(prefix: String) async throws(StorageError) -> PartnerKeyMatch?

    /// Records that a key was used, at most once a minute per key.
    func recordPartnerKeyUse(keyId: Int64, now: Date) async throws(StorageError)

    /// Replaces a partner's sealed signing secret, with the audit event; false when the partner is gone.
    func replacePartnerSecret(partnerId: String, sealed: String, now: Date, audit: AuditEventRecord) async throws(StorageError) -> Bool
}

/// A live API key and the partner it belongs to.
struct PartnerKeyMatch: Sendable, Equatable {
    var key: PartnerApiKeyRecord
    var partner: PartnerRecord
}
