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
        case notCheckable(status: ConnectionStatus)
        case notFound
    }

    let store: any TokenLifeStore & ConnectionStore & AuditLog
    let square: SquareOAuthClient
    let vault: TokenVault
    let settings: TokenLifeSettings
    let clock: AppClock
    let logger: Logger

    /// Checks one connection's access token with Square (the dashboard's "Check", a new connection's check, the CLI).
    ///
    /// A check someone asked for (not the sweep's) is always in the audit log with its actor: a change Square reports
    /// is recorded with it, and an answer that changes nothing gets its own `token.status_checked` event.
    func check(connectionId: Int64, actor: AuditActor) async -> Outcome {
        await check(connectionId: connectionId, actor: actor, auditUnchanged: actor != .system).outcome
    }

    /// A check with the merchant id it found (nil when the row is gone or unreadable); `auditUnchanged` adds the
    /// `token.status_checked` event for an answer that changed nothing (checks someone asked for, not sweeps).
    func check(connectionId: Int64, actor: AuditActor, auditUnchanged: Bool) async -> (merchantId: String?, outcome: Outcome) {
        let (merchantId, outcome) = await checkOnce(connectionId: connectionId, actor: actor)
        Telemetry.checked(outcome)
        if auditUnchanged { await self.auditUnchanged(outcome, connectionId: connectionId, actor: actor) }
        return (merchantId, outcome)
    }

    /// Records a check whose outcome changed nothing (no other audit event says it happened).
    private func auditUnchanged(_ outcome: Outcome, connectionId: Int64, actor: AuditActor) async {
        let detail: String
        switch outcome {
        case .valid(let scopes, let expiresAt):
            detail = "valid until \(expiresAt.map { $0.formatted(.iso8601) } ?? "unknown"); scopes \(scopes.joined(separator: " "))"
        case .unknown(let reason): detail = "no answer: \(reason); nothing changed"
        case .notCheckable(let status): detail = "not checked: the connection is \(status.rawValue)"
        case .expired, .revoked, .needsReauth, .notFound: return
        }
        do {
            let merchantId = try await store.connection(id: connectionId)?.merchantId
            try await store.appendAudit(
                AuditEventRecord(occurredAt: clock.now(), actor: actor, action: .tokenStatusChecked, merchantId: merchantId, detail: detail)
            )
        } catch {
            logger.error("Could not audit a token status check", metadata: ["error": "\(error)"])
        }
    }

    private func checkOnce(connectionId: Int64, actor: AuditActor) async -> (merchantId: String?, outcome: Outcome) {
        let found: ConnectionRecord?
        do {
            found = try await store.connection(id: connectionId)
        } catch {
            return (nil, .unknown(reason: "\(error)"))
        }
        guard let connection = found else { return (nil, .notFound) }
        return (connection.merchantId, await checkOnce(connection, actor: actor))
    }

    private func checkOnce(_ connection: ConnectionRecord, actor: AuditActor) async -> Outcome {
        let connectionId = connection.id
        guard connection.status == .active, let sealed = connection.sealedAccessToken else {
            return .notCheckable(status: connection.status)
        }
        let merchant = connection.merchantId
        guard let token = try? vault.openAccessToken(sealed, environment: connection.environment, merchantId: merchant) else {
            return .unknown(reason: "cannot open the sealed access token (is its key in onboard.encryptionKeys?)")
        }
        let now = clock.now()
        do {
            let status = try await square.retrieveTokenStatus(accessToken: token)
            let expiresAt = status.expiresAt.flatMap(SquareDate.parse)
            do {
                try await store.recordHealthyStatus(
                    connectionId: connectionId,
                    scopes: status.scopes?.joined(separator: " "),
                    expiresAt: expiresAt,
                    now: now
                )
            } catch {
                logger.error("Could not record a token status", metadata: ["error": "\(error)"])
                return .unknown(reason: "\(error)")
            }
            return .valid(scopes: status.scopes ?? [], expiresAt: expiresAt)
        } catch  where error.statusCode == 401 {
            let code = error.errors.first?.code ?? error.legacy?.message ?? "UNAUTHORIZED"
            return await record(code: code, connection: connection, actor: actor, now: now)
        } catch {
            let reason = "Square answered \(error.statusCode.map { "HTTP \($0)" } ?? "nothing") (\(error.kind.rawValue))"
            logger.warning("Token status check failed", metadata: ["merchant_id": .string(merchant), "kind": .string(error.kind.rawValue)])
            return .unknown(reason: reason)
        }
    }

    private func record(code: String, connection: ConnectionRecord, actor: AuditActor, now: Date) async -> Outcome {
        let id = connection.id
        let merchant = connection.merchantId
        do {
            switch code {
            case "ACCESS_TOKEN_EXPIRED":
                try await store.markAccessTokenExpired(
                    connectionId: id,
                    now: now,
                    audit: AuditEventRecord(occurredAt: now, actor: actor, action: .tokenExpired, merchantId: merchant, detail: "status=\(code)")
                )
                return .expired
            case "ACCESS_TOKEN_REVOKED":
                _ = try await store.markRevoked(
                    connectionId: id,
                    by: "square",
                    now: now,
                    audit: AuditEventRecord(
                        occurredAt: now,
                        actor: actor,
                        action: .connectionRevoked,
                        merchantId: merchant,
                        detail: "status check: \(code)"
                    )
                )
                return .revoked
            default:
                let reason = "Square no longer accepts the access token (\(code)): the merchant must connect again"
                try await store.markNeedsReauth(
                    connectionId: id,
                    reason: reason,
                    now: now,
                    audit: AuditEventRecord(occurredAt: now, actor: actor, action: .tokenNeedsReauth, merchantId: merchant, detail: reason)
                )
                return .needsReauth(reason: reason)
            }
        } catch {
            logger.error("Could not record a token status", metadata: ["error": "\(error)"])
            return .unknown(reason: "\(error)")
        }
    }
}
