import Foundation
import Logging
import SquareOAuth

/// Asks Square whether stored access tokens still work (RetrieveTokenStatus) and records what it says.
struct TokenStatusChecker: Sendable {
    /// What a check found.
    enum Outcome: Sendable, Equatable {
        case valid(scopes: [String], expiresAt: Date?)
        /// The access token expired; the refresher renews it on its next pass.
        case expired
        /// Square says the authorization is revoked; the connection is marked revoked.
        case revoked
        /// Square no longer accepts the token for another reason; the merchant must connect again.
        case needsReauth(reason: String)
        /// Square could not answer now; nothing was changed.
        case unknown(reason: String)
        case notCheckable(status: String)
        case notFound
    }

    let database: AppDatabase
    let square: SquareOAuthClient
    let vault: TokenVault
    let settings: TokenLifeSettings
    let clock: AppClock
    let logger: Logger

    /// Checks one connection's access token with Square (the dashboard's "Check", the periodic sweep).
    func check(connectionId: Int64, actor: String) async -> Outcome {
        guard let connection = try? database.connection(id: connectionId) else { return .notFound }
        guard connection.status == ConnectionStatus.active.rawValue, let sealed = connection.sealedAccessToken else {
            return .notCheckable(status: connection.status)
        }
        let merchant = connection.merchantId
        guard let token = try? vault.openAccessToken(sealed, environment: connection.environment, merchantId: merchant) else {
            return .unknown(reason: "cannot open the sealed access token (is its key in onboard.encryptionKeys?)")
        }
        let now = clock.now()
        do {
            let status = try await square.retrieveTokenStatus(accessToken: token)
            let expiresAt = status.expiresAt.flatMap(OnboardingService.parseDate)
            try? database.recordHealthyStatus(
                connectionId: connectionId,
                scopes: status.scopes?.joined(separator: " "),
                expiresAt: expiresAt,
                now: now
            )
            return .valid(scopes: status.scopes ?? [], expiresAt: expiresAt)
        } catch  where error.statusCode == 401 {
            let code = error.errors.first?.code ?? error.legacy?.message ?? "UNAUTHORIZED"
            return record(code: code, connection: connection, actor: actor, now: now)
        } catch {
            let reason = "Square answered \(error.statusCode.map { "HTTP \($0)" } ?? "nothing") (\(error.kind.rawValue))"
            logger.warning("Token status check failed", metadata: ["merchant_id": .string(merchant), "kind": .string(error.kind.rawValue)])
            return .unknown(reason: reason)
        }
    }

    private func record(code: String, connection: ConnectionRecord, actor: String, now: Date) -> Outcome {
        let id = connection.id!
        let merchant = connection.merchantId
        do {
            switch code {
            case "ACCESS_TOKEN_EXPIRED":
                try database.markAccessTokenExpired(
                    connectionId: id,
                    now: now,
                    audit: AuditEventRecord(occurredAt: now, actor: actor, action: "token.expired", merchantId: merchant, detail: "status=\(code)")
                )
                return .expired
            case "ACCESS_TOKEN_REVOKED":
                try database.markRevoked(
                    connectionId: id,
                    by: "square",
                    now: now,
                    audit: AuditEventRecord(
                        occurredAt: now,
                        actor: actor,
                        action: "connection.revoked",
                        merchantId: merchant,
                        detail: "status check: \(code)"
                    )
                )
                return .revoked
            default:
                let reason = "Square no longer accepts the access token (\(code)): the merchant must connect again"
                try database.markNeedsReauth(
                    connectionId: id,
                    reason: reason,
                    now: now,
                    audit: AuditEventRecord(occurredAt: now, actor: actor, action: "token.needs_reauth", merchantId: merchant, detail: reason)
                )
                return .needsReauth(reason: reason)
            }
        } catch {
            logger.error("Could not record a token status", metadata: ["error": "\(error)"])
            return .unknown(reason: "database unavailable")
        }
    }

    /// Checks every active connection not checked within the status interval, one at a time.
    func sweep(shouldStop: @Sendable () -> Bool = { false }) async -> [(merchantId: String, outcome: Outcome)] {
        let cutoff = clock.now().addingTimeInterval(-settings.statusCheckInterval)
        guard let due = try? database.connectionsDueForStatusCheck(checkedBefore: cutoff) else { return [] }
        var results: [(String, Outcome)] = []
        for connection in due where !shouldStop() {
            results.append((connection.merchantId, await check(connectionId: connection.id!, actor: "system")))
        }
        return results
    }
}
