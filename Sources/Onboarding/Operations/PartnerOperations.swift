import Foundation
import Logging
import NIOPosix
import OnboardCrypto

/// What `square-onboard partner …` does with the partners in the service's database; each returns lines to print.
package enum PartnerOperations {
    package static func isValidName(_ name: String) -> Bool { PartnerDirectory.isValidName(name) }

    /// Adds a partner; the API key and signing secret are printed once, here, and never again.
    package static func add(
        location: (databasePath: String, keyRing: KeyRing),
        name: String,
        displayName: String?,
        returnURLs: [String],
        popupOrigins: [String],
        webhookURL: String?,
        logger: Logger
    ) async throws -> [String] {
        let directory = try await directory(location, create: true, logger: logger)
        let (partner, secrets) = try await directory.add(
            name: name,
            settings: .init(displayName: displayName, returnURLs: returnURLs, popupOrigins: popupOrigins, webhookURL: webhookURL),
            actor: .cli
        )
        return [
            "added partner '\(partner.name)' (\(partner.id))",
            "API key (shown once; keep it in your secret store):   \(secrets.apiKey ?? "")",
            "signing secret for webhooks and return URLs (shown once): \(secrets.signingSecret ?? "")",
        ]
    }

    /// Changes the given settings; a list given replaces the whole list.
    package static func update(
        location: (databasePath: String, keyRing: KeyRing),
        name: String,
        displayName: String?,
        returnURLs: [String]?,
        popupOrigins: [String]?,
        webhookURL: String??,
        logger: Logger
    ) async throws -> [String] {
        let partner = try await directory(location, create: false, logger: logger).update(
            name: name,
            displayName: displayName,
            returnURLs: returnURLs,
            popupOrigins: popupOrigins,
            webhookURL: webhookURL,
            actor: .cli
        )
        return ["changed partner '\(partner.name)'"] + describe(partner)
    }

    /// Every partner with its settings and keys (prefixes only).
    package static func list(location: (databasePath: String, keyRing: KeyRing), logger: Logger) async throws -> [String] {
        let listed = try await directory(location, create: false, logger: logger).list()
        guard !listed.isEmpty else { return ["no partners yet; add one with: square-onboard partner add NAME --return-url URL"] }
        var lines: [String] = []
        for (partner, keys) in listed {
            lines.append("\(partner.name) (\(partner.id))")
            lines += describe(partner)
            for key in keys {
                let state =
                    key.revokedAt.map { "revoked \(AdminOperations.format($0))" }
                    ?? "live, last used \(key.lastUsedAt.map(AdminOperations.format) ?? "never")"
                lines.append("  key \(key.prefix)…  created \(AdminOperations.format(key.createdAt)), \(state)")
            }
        }
        return lines
    }

    package static func remove(location: (databasePath: String, keyRing: KeyRing), name: String, logger: Logger) async throws -> [String] {
        let removed = try await directory(location, create: false, logger: logger).remove(name: name, actor: .cli)
        return ["removed partner '\(removed.name)' with its API keys and onboarding links; its connections stay"]
    }

    /// A new API key beside the live ones; the old ones keep working until `revoke-key`.
    package static func rotateKey(location: (databasePath: String, keyRing: KeyRing), name: String, logger: Logger) async throws -> [String] {
        let (record, key) = try await directory(location, create: false, logger: logger).rotateKey(name: name, actor: .cli)
        return [
            "new API key for '\(name)' (shown once): \(key)",
            "the older keys still work; end each with: square-onboard partner revoke-key \(name) PREFIX (this one is \(record.prefix))",
        ]
    }

    package static func revokeKey(
        location: (databasePath: String, keyRing: KeyRing),
        name: String,
        prefix: String,
        logger: Logger
    ) async throws -> [String] {
        try await directory(location, create: false, logger: logger).revokeKey(name: name, prefix: prefix, actor: .cli)
        return ["revoked API key \(prefix)… of '\(name)'"]
    }

    package static func rotateSigningSecret(location: (databasePath: String, keyRing: KeyRing), name: String, logger: Logger) async throws -> [String]
    {
        let secret = try await directory(location, create: false, logger: logger).rotateSigningSecret(name: name, actor: .cli)
        return [
            "new signing secret for '\(name)' (shown once): \(secret)",
            "webhooks and return URLs are signed with it from now on",
        ]
    }

    private static func describe(_ partner: PartnerRecord) -> [String] {
        [
            "  shown as:      \(partner.displayName)",
            "  return URLs:   \(partner.returnURLPrefixes.joined(separator: ", "))",
            "  popup origins: \(partner.popupOriginList.isEmpty ? "none" : partner.popupOriginList.joined(separator: ", "))",
            "  webhook URL:   \(partner.webhookUrl ?? "none")",
        ]
    }

    private static func directory(_ location: (databasePath: String, keyRing: KeyRing), create: Bool, logger: Logger) async throws -> PartnerDirectory
    {
        let path = location.databasePath
        guard create || FileManager.default.fileExists(atPath: path) else { throw KeyRotationError.noDatabase(path: path) }
        let store = try await NIOThreadPool.singleton.runIfActive { try AppDatabase.open(path: path) }
        return PartnerDirectory(store: store, vault: TokenVault(keyRing: location.keyRing), clock: .system, logger: logger)
    }
}
