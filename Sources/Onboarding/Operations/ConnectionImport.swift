import Foundation
import NIOPosix
import SquareOAuth

/// A connection made outside the service's OAuth flow, to import with its tokens (seeding, benchmarks, a move).
public struct ImportedConnection: Sendable, Equatable {
    /// Where the connection stands, as the dashboard shows it.
    public enum Status: String, Sendable, CaseIterable {
        case active
        case needsReauth = "needs_reauth"
        case revoked
        case expired
    }

    public var merchantId: String
    public var accessToken: Secret
    public var refreshToken: Secret
    public var expiresAt: Date
    /// When the refresh token expires (PKCE); nil for a code-flow token.
    public var refreshTokenExpiresAt: Date?
    public var scopes: [String]
    public var flow: OAuthFlow
    public var status: Status
    public var partnerReference: String?
    public var connectedAt: Date
    public var lastRefreshedAt: Date?
    public var lastCheckedAt: Date?
    /// Why a needs_reauth connection stopped working.
    public var lastError: String?

    public init(
        merchantId: String,
        accessToken: Secret,
        refreshToken: Secret,
        expiresAt: Date,
        refreshTokenExpiresAt: Date? = nil,
        scopes: [String],
        flow: OAuthFlow,
        status: Status = .active,
        partnerReference: String? = nil,
        connectedAt: Date,
        lastRefreshedAt: Date? = nil,
        lastCheckedAt: Date? = nil,
        lastError: String? = nil
    ) {
        self.merchantId = merchantId
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.scopes = scopes
        self.flow = flow
        self.status = status
        self.partnerReference = partnerReference
        self.connectedAt = connectedAt
        self.lastRefreshedAt = lastRefreshedAt
        self.lastCheckedAt = lastCheckedAt
        self.lastError = lastError
    }
}

/// Writes imported connections into the service's database through the real records and sealing, a batch per
/// transaction, each with its `connection.connected` audit event.
public struct ConnectionImporter: Sendable {
    let store: any ConnectionStore
    let vault: TokenVault
    let environment: String

    init(store: any ConnectionStore, vault: TokenVault, environment: String) {
        self.store = store
        self.vault = vault
        self.environment = environment
    }

    /// Opens (creating and migrating when new) the database `configuration` names, in its Square environment.
    public static func open(configuration: AppConfiguration) async throws -> ConnectionImporter {
        let path = configuration.databasePath
        let database = try await NIOThreadPool.singleton.runIfActive { try AppDatabase.open(path: path) }
        return ConnectionImporter(
            store: database,
            vault: TokenVault(keyRing: configuration.keyRing),
            environment: configuration.environmentIdentity
        )
    }

    /// Imports one batch in one transaction; a merchant already connected fails the whole batch.
    public func importBatch(_ connections: [ImportedConnection]) async throws {
        var records: [ConnectionRecord] = []
        var audit: [AuditEventRecord] = []
        records.reserveCapacity(connections.count)
        audit.reserveCapacity(connections.count)
        for connection in connections {
            records.append(try record(connection))
            audit.append(
                AuditEventRecord(
                    occurredAt: connection.connectedAt,
                    actor: .cli,
                    action: .connectionConnected,
                    merchantId: connection.merchantId,
                    detail: "imported; status=\(connection.status.rawValue) flow=\(connection.flow.rawValue)"
                )
            )
        }
        try await store.importConnections(records, audit: audit)
    }

    /// The stored form: tokens sealed to this environment and merchant; a revoked connection keeps none.
    func record(_ imported: ImportedConnection) throws -> ConnectionRecord {
        let status: ConnectionStatus =
            switch imported.status {
            case .active: .active
            case .needsReauth: .needsReauth
            case .revoked: .revoked
            case .expired: .expired
            }
        let updatedAt = [imported.connectedAt, imported.lastRefreshedAt, imported.lastCheckedAt].compactMap { $0 }.max()!
        // The id is the store's to give (`importConnections` does not read it).
        var record = ConnectionRecord(
            id: 0,
            environment: environment,
            merchantId: imported.merchantId,
            sealedAccessToken: try vault.sealAccessToken(imported.accessToken, environment: environment, merchantId: imported.merchantId),
            sealedRefreshToken: try vault.sealRefreshToken(imported.refreshToken, environment: environment, merchantId: imported.merchantId),
            tokenType: "bearer",
            expiresAt: imported.expiresAt,
            refreshTokenExpiresAt: imported.refreshTokenExpiresAt,
            scopes: imported.scopes.joined(separator: " "),
            shortLived: false,
            flow: imported.flow,
            status: status,
            partnerReference: imported.partnerReference,
            connectedAt: imported.connectedAt,
            lastRefreshedAt: imported.lastRefreshedAt,
            lastCheckedAt: imported.lastCheckedAt,
            refreshFailureCount: status == .needsReauth ? 1 : 0,
            lastError: imported.lastError,
            updatedAt: updatedAt
        )
        if status == .revoked { record.revoke(by: "merchant", at: updatedAt) }
        return record
    }
}

extension AppConfiguration {
    /// The service's configuration read as `serve` reads it: `flags` by flag name (`--data-directory`), then the
    /// environment, then `.env`; a flag that names no setting is an error.
    public static func load(flags: [String: String]) async throws -> AppConfiguration {
        var settings: [Setting: String] = [:]
        for (flag, value) in flags {
            guard let setting = Setting.named(flag: flag) else { throw UnknownSettingFlag(flag: flag) }
            settings[setting] = value
        }
        return try AppConfiguration(reader: try await standardReader(flags: settings))
    }
}

/// A flag given to `AppConfiguration.load(flags:)` that names no setting.
public struct UnknownSettingFlag: Error, CustomStringConvertible {
    public var flag: String
    public var description: String { "'\(flag)' is not a setting ('square-onboard serve --help' lists them)" }
}
