import Foundation
import Logging
import OnboardCrypto

/// Manages partners for the `partner` commands and the dashboard: add, change, remove, keys and signing secrets.
struct PartnerDirectory: Sendable {
    let store: any PartnerStore
    let vault: TokenVault
    let clock: AppClock
    let logger: Logger

    /// What a partner is given once, at creation or rotation; never stored in the clear.
    struct IssuedSecrets: Sendable, Equatable {
        var apiKey: String?
        var signingSecret: String?
    }

    /// The settings a partner is added or changed with, as typed (checked and normalised here).
    struct Settings: Sendable, Equatable {
        var displayName: String?
        var returnURLs: [String]
        var popupOrigins: [String]
        var webhookURL: String?
    }

    /// Adds a partner with a first API key and a signing secret, both returned once.
    func add(name: String, settings: Settings, actor: AuditActor) async throws(PartnerError) -> (PartnerRecord, IssuedSecrets) {
        guard Self.isValidName(name) else { throw .invalidName }
        let checked = try Self.check(settings)
        let now = clock.now()
        let id = PartnerCredentials.newPartnerId()
        let secret = PartnerCredentials.newSigningSecret()
        let (key, keyRecord) = PartnerCredentials.newKey(partnerId: id, now: now)
        let partner = PartnerRecord(
            id: id,
            name: name,
            displayName: checked.displayName ?? name,
            returnUrls: checked.returnURLs.joined(separator: "\n"),
            popupOrigins: checked.popupOrigins.joined(separator: "\n"),
            webhookUrl: checked.webhookURL,
            webhookSecretSealed: try seal(secret, partnerId: id),
            createdAt: now,
            updatedAt: now
        )
        let added = try await storingPartner("adding a partner", logger: logger) {
            try await store.addPartner(
                partner,
                key: keyRecord,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: actor,
                    action: .partnerAdded,
                    detail: "partner=\(id) name=\(name) key=\(keyRecord.prefix)"
                )
            )
        }
        guard let added else { throw .nameTaken(name) }
        logger.notice("Partner added", metadata: ["partner_id": .string(id), "name": .string(name)])
        return (added, IssuedSecrets(apiKey: key, signingSecret: secret))
    }

    /// Changes the given settings of a partner; nil fields stay as they are.
    func update(
        name: String,
        displayName: String?,
        returnURLs: [String]?,
        popupOrigins: [String]?,
        webhookURL: String??,
        actor: AuditActor
    ) async throws(PartnerError) -> PartnerRecord {
        var partner = try await find(name)
        let checked = try Self.check(
            Settings(
                displayName: displayName ?? partner.displayName,
                returnURLs: returnURLs ?? partner.returnURLPrefixes,
                popupOrigins: popupOrigins ?? partner.popupOriginList,
                webhookURL: webhookURL ?? partner.webhookUrl
            )
        )
        partner.displayName = checked.displayName ?? partner.displayName
        partner.returnUrls = checked.returnURLs.joined(separator: "\n")
        partner.popupOrigins = checked.popupOrigins.joined(separator: "\n")
        partner.webhookUrl = checked.webhookURL
        partner.updatedAt = clock.now()
        let record = partner
        let updated = try await storingPartner("changing a partner", logger: logger) {
            try await store.updatePartner(
                record,
                audit: AuditEventRecord(occurredAt: record.updatedAt, actor: actor, action: .partnerUpdated, detail: "partner=\(record.id)")
            )
        }
        guard updated else { throw .unknownPartner(name) }
        return record
    }

    func list() async throws(PartnerError) -> [(partner: PartnerRecord, keys: [PartnerApiKeyRecord])] {
        let partners = try await storingPartner("listing partners", logger: logger) { try await store.allPartners() }
        var listed: [(PartnerRecord, [PartnerApiKeyRecord])] = []
        for partner in partners {
            let keys = try await storingPartner("listing keys", logger: logger) { try await store.partnerKeys(partnerId: partner.id) }
            listed.append((partner, keys))
        }
        return listed
    }

    func find(_ name: String) async throws(PartnerError) -> PartnerRecord {
        let partner = try await storingPartner("reading a partner", logger: logger) { try await store.partner(named: name) }
        guard let partner else { throw .unknownPartner(name) }
        return partner
    }

    /// Removes a partner, its keys and links; its connections stay, still naming it.
    func remove(name: String, actor: AuditActor) async throws(PartnerError) -> PartnerRecord {
        let removed = try await storingPartner("removing a partner", logger: logger) {
            try await store.removePartner(
                named: name,
                audit: AuditEventRecord(occurredAt: clock.now(), actor: actor, action: .partnerRemoved, detail: "name=\(name)")
            )
        }
        guard let removed else { throw .unknownPartner(name) }
        return removed
    }

    /// Issues one more API key; the older ones keep working until revoked, so a partner can roll over without downtime.
    func rotateKey(name: String, actor: AuditActor) async throws(PartnerError) -> (PartnerApiKeyRecord, String) {
        let partner = try await find(name)
        let now = clock.now()
        let (key, record) = PartnerCredentials.newKey(partnerId: partner.id, now: now)
        let added = try await storingPartner("adding an API key", logger: logger) {
            try await store.addPartnerKey(
                record,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: actor,
                    action: .partnerKeyCreated,
                    detail: "partner=\(partner.id) key=\(record.prefix)"
                )
            )
        }
        guard added else { throw .unknownPartner(name) }
        return (record, key)
    }

    /// Ends one API key by its prefix.
    func revokeKey(name: String, prefix: String, actor: AuditActor) async throws(PartnerError) {
        let partner = try await find(name)
        let now = clock.now()
        let revoked = try await storingPartner("revoking an API key", logger: logger) {
            try await store.revokePartnerKey(
                partnerId: partner.id,
                prefix: prefix,
                now: now,
                audit: AuditEventRecord(occurredAt: now, actor: actor, action: .partnerKeyRevoked, detail: "partner=\(partner.id) key=\(prefix)")
            )
        }
        guard revoked else { throw .unknownKey(prefix) }
    }

    /// Replaces the signing secret (webhooks and return URLs) and returns the new one, once.
    func rotateSigningSecret(name: String, actor: AuditActor) async throws(PartnerError) -> String {
        let partner = try await find(name)
        let secret = PartnerCredentials.newSigningSecret()
        let sealed = try seal(secret, partnerId: partner.id)
        let now = clock.now()
        let replaced = try await storingPartner("replacing a signing secret", logger: logger) {
            try await store.replacePartnerSecret(
                partnerId: partner.id,
                sealed: sealed,
                now: now,
                audit: AuditEventRecord(occurredAt: now, actor: actor, action: .partnerWebhookSecretRotated, detail: "partner=\(partner.id)")
            )
        }
        guard replaced else { throw .unknownPartner(name) }
        return secret
    }

    /// The partner's signing secret, opened for signing.
    func signingSecret(of partner: PartnerRecord) throws(PartnerError) -> String {
        do {
            return try vault.openPartnerSecret(partner.webhookSecretSealed, partnerId: partner.id)
        } catch {
            logger.critical("Could not open a partner's signing secret", metadata: ["partner_id": .string(partner.id)])
            throw .storageUnavailable
        }
    }

    private func seal(_ secret: String, partnerId: String) throws(PartnerError) -> String {
        do {
            return try vault.sealPartnerSecret(secret, partnerId: partnerId)
        } catch {
            logger.critical("Could not seal a partner's signing secret", metadata: ["error": "\(error)"])
            throw .storageUnavailable
        }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 40, first != UInt8(ascii: "-") else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
    }

    static func check(_ settings: Settings) throws(PartnerError) -> Settings {
        var checked = Settings(displayName: nil, returnURLs: [], popupOrigins: [], webhookURL: nil)
        if let name = settings.displayName?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            guard name.count <= 80, !name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) else {
                throw .invalidField(field: "display_name", reason: "at most 80 characters on one line")
            }
            checked.displayName = name
        }
        guard !settings.returnURLs.isEmpty else {
            throw .invalidField(field: "return_url", reason: "a partner needs at least one allowed return URL")
        }
        for url in settings.returnURLs { checked.returnURLs.append(try PartnerURLRules.returnURLEntry(url).get()) }
        for origin in settings.popupOrigins { checked.popupOrigins.append(try PartnerURLRules.popupOrigin(origin).get()) }
        if let webhook = settings.webhookURL, !webhook.isEmpty { checked.webhookURL = try PartnerURLRules.webhookURL(webhook).get() }
        return checked
    }
}
