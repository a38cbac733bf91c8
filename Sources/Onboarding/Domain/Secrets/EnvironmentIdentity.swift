import Foundation
import OnboardCrypto

/// Moves connections stored under a base URL (before environments had stable names) to the configured name.
///
/// Runs at start, before the server listens: each row's tokens are opened under the old URL-bound context and
/// re-sealed under the name, all rows in one transaction. Two rows that would become one stop the start instead.
struct EnvironmentIdentity: Sendable {
    let store: any SealedValueStore
    let vault: TokenVault
    let configuration: AppConfiguration
    let clock: AppClock

    /// Re-keys every URL-named connection to `configuration.environmentIdentity`; returns how many moved.
    func migrateLegacyNames() async throws -> Int {
        guard case .custom = configuration.squareEnvironment else { return 0 }
        let target = configuration.environmentIdentity
        let legacy = try await store.connectionEnvironments().filter(Self.isLegacyURLName)
        guard !legacy.isEmpty else { return 0 }
        let rows = try await store.connections(inEnvironments: legacy + [target])
        let collisions = Dictionary(grouping: rows, by: \.merchantId).filter { $0.value.count > 1 }
        guard collisions.isEmpty else {
            throw EnvironmentIdentityError.collision(
                target: target,
                rows: collisions.values.flatMap { $0 }.sorted { $0.id < $1.id }
                    .map { "connection \($0.id) (merchant \($0.merchantId), environment \($0.environment))" }
            )
        }
        var changes: [ConnectionRekey] = []
        for row in rows where row.environment != target {
            let id = row.id
            do {
                changes.append(
                    ConnectionRekey(
                        connectionId: id,
                        fromEnvironment: row.environment,
                        toEnvironment: target,
                        sealedAccessToken: try row.sealedAccessToken.map {
                            try vault.sealAccessToken(
                                try vault.openAccessToken($0, environment: row.environment, merchantId: row.merchantId),
                                environment: target,
                                merchantId: row.merchantId
                            )
                        },
                        sealedRefreshToken: try row.sealedRefreshToken.map {
                            try vault.sealRefreshToken(
                                try vault.openRefreshToken($0, environment: row.environment, merchantId: row.merchantId),
                                environment: target,
                                merchantId: row.merchantId
                            )
                        }
                    )
                )
            } catch {
                throw EnvironmentIdentityError.unreadable(connectionId: id, merchantId: row.merchantId, reason: "\(error)")
            }
        }
        try await store.rekeyConnections(
            changes,
            audit: AuditEventRecord(
                occurredAt: clock.now(),
                actor: .system,
                action: .environmentRekeyed,
                detail: "\(changes.count) connection(s) moved from \(legacy.joined(separator: ", ")) to '\(target)'"
            )
        )
        return changes.count
    }

    /// Earlier versions stored a custom environment as its URL.
    static func isLegacyURLName(_ name: String) -> Bool {
        name.hasPrefix("http://") || name.hasPrefix("https://")
    }
}

/// Why the start stops rather than re-key connections.
enum EnvironmentIdentityError: Error, CustomStringConvertible {
    case collision(target: String, rows: [String])
    case unreadable(connectionId: Int64, merchantId: String, reason: String)

    var description: String {
        switch self {
        case .collision(let target, let rows):
            "cannot give the environment the name '\(target)': these connections would become one, and nothing is merged "
                + "silently: \(rows.joined(separator: "; ")). Keep one per merchant (or name the environments apart with "
                + "square.environmentName) and start again."
        case .unreadable(let id, let merchant, let reason):
            "cannot re-key connection \(id) (merchant \(merchant)) to the stable environment name: its tokens do not open "
                + "(\(reason)); is its key in onboard.encryptionKeys?"
        }
    }
}
