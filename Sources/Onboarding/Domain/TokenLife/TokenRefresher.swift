import Foundation
import Logging
import OnboardCrypto
import SquareOAuth

/// Keeps tokens fresh: leases a row, refreshes at Square, and stores the answer in one transaction before anything else.
///
/// One merchant is never refreshed twice at once: callers in this process share one task per connection
/// (single-flight), and other processes are kept out by the row's lease.
actor TokenRefresher {
    /// What one refresh attempt ended in.
    enum Outcome: Sendable, Equatable {
        case refreshed(expiresAt: Date?)
        case notDue
        case busy
        case needsReauth(reason: String)
        case retryLater(reason: String, at: Date)
        case notRefreshable(status: ConnectionStatus)
        case notFound
        /// Square refreshed, but the connection was revoked meanwhile; the new tokens were dropped.
        case revokedMeanwhile
    }

    nonisolated let settings: TokenLifeSettings
    nonisolated let store: any TokenLifeStore & ConnectionStore
    nonisolated let square: SquareOAuthClient
    nonisolated let vault: TokenVault
    nonisolated let clientId: String
    nonisolated let clientSecret: Secret?
    nonisolated let clock: AppClock
    nonisolated let logger: Logger
    /// This process's name on leases it takes.
    nonisolated let owner = "worker-" + SecureRandom.urlSafeToken(byteCount: 9)
    /// One refresh per connection in this process; a caller meanwhile joins it.
    private let refreshes = SingleFlight<Int64, Outcome, Never>()

    init(
        configuration: AppConfiguration,
        store: any OnboardingStore,
        square: SquareOAuthClient,
        vault: TokenVault,
        clock: AppClock,
        logger: Logger
    ) {
        settings = configuration.tokenLife
        self.store = store
        self.square = square
        self.vault = vault
        clientId = configuration.squareClientId
        clientSecret = configuration.squareClientSecret
        self.clock = clock
        self.logger = logger
    }

    /// Refreshes one connection now, or joins the refresh of it already running in this process.
    ///
    /// `force` refreshes even when not due (an admin's or partner's request); `actor` is recorded in the audit log.
    func refresh(connectionId: Int64, actor: AuditActor, force: Bool) async -> Outcome {
        await counted(refreshes.run(connectionId) { .success(await self.leaseAndRefresh(connectionId: connectionId, actor: actor, force: force)) })
    }

    /// Refreshes a connection a pass already leased, registered like `refresh(connectionId:actor:force:)` so callers join it.
    func refresh(leased lease: RefreshLease, actor: AuditActor) async -> Outcome {
        await counted(refreshes.run(lease.connection.id) { .success(await self.refresh(lease, actor: actor)) })
    }

    /// How many refreshes this process has running.
    var refreshesInFlight: Int { get async { await refreshes.inFlight } }

    /// The outcome, counted in the metrics once per refresh (not again for each caller that joined it).
    private func counted(_ answer: SingleFlight<Int64, Outcome, Never>.Answer) -> Outcome {
        let outcome = answer.result.get()
        if !answer.joined { Telemetry.refreshed(outcome) }
        return outcome
    }

    private nonisolated func leaseAndRefresh(connectionId: Int64, actor: AuditActor, force: Bool) async -> Outcome {
        let leased: Result<RefreshLease, LeaseRefusal>
        do {
            leased = try await store.leaseForRefresh(
                connectionId: connectionId,
                owner: owner,
                settings: settings,
                force: force,
                now: clock.now()
            )
        } catch {
            logger.error("Could not lease a connection for refresh", metadata: ["error": "\(error)"])
            return .retryLater(reason: "database unavailable", at: clock.now().addingTimeInterval(settings.backoff))
        }
        switch leased {
        case .failure(.notFound): return .notFound
        case .failure(.notRefreshable(let status)): return .notRefreshable(status: status)
        case .failure(.notDue): return .notDue
        case .failure(.busy): return .busy
        case .success(let lease): return await refresh(lease, actor: actor)
        }
    }

    private nonisolated func refresh(_ lease: RefreshLease, actor: AuditActor) async -> Outcome {
        let connection = lease.connection
        let id = connection.id
        let merchant = connection.merchantId
        let refreshToken: Secret
        do {
            refreshToken = try vault.openRefreshToken(
                connection.sealedRefreshToken ?? "",
                environment: connection.environment,
                merchantId: merchant
            )
        } catch {
            // Not Square's fault and not the merchant's: a key is missing from onboard.encryptionKeys.
            return await retryLater(
                id,
                merchant: merchant,
                actor: actor,
                failures: connection.refreshFailureCount + 1,
                reason: "cannot open the sealed refresh token (\(error))"
            )
        }
        let usesSecret = connection.flow == .code
        if usesSecret && clientSecret == nil {
            return await retryLater(
                id,
                merchant: merchant,
                actor: actor,
                failures: connection.refreshFailureCount + 1,
                reason: "square.clientSecret is needed to refresh code-flow tokens"
            )
        }

        let answer: ObtainTokenResponse
        do {
            answer = try await square.obtainToken(
                .refresh(clientId: clientId, refreshToken: refreshToken, clientSecret: usesSecret ? clientSecret : nil)
            )
        } catch {
            return await failed(lease, error: error, actor: actor)
        }
        guard let accessToken = answer.accessToken else {
            return await failed(lease, error: SquareError(kind: .malformedResponse, operation: "obtainToken", statusCode: 200), actor: actor)
        }
        return await save(answer, accessToken: accessToken, lease: lease, actor: actor)
    }

    private nonisolated func save(_ answer: ObtainTokenResponse, accessToken: Secret, lease: RefreshLease, actor: AuditActor) async -> Outcome {
        let connection = lease.connection
        let now = clock.now()
        let expiresAt = answer.expiresAt.flatMap(SquareDate.parse)
        // A spent PKCE refresh token cannot be asked for again: retry the write a few times before giving up.
        for attempt in 1...3 {
            do {
                let tokens = RefreshedTokens(
                    sealedAccessToken: try vault.sealAccessToken(accessToken, environment: connection.environment, merchantId: connection.merchantId),
                    sealedRefreshToken: try answer.refreshToken.map {
                        try vault.sealRefreshToken($0, environment: connection.environment, merchantId: connection.merchantId)
                    },
                    expiresAt: expiresAt,
                    refreshTokenExpiresAt: answer.refreshTokenExpiresAt.flatMap(SquareDate.parse),
                    shortLived: answer.shortLived ?? false
                )
                let saved = try await store.saveRefreshedTokens(
                    tokens,
                    connectionId: connection.id,
                    now: now,
                    audit: AuditEventRecord(
                        occurredAt: now,
                        actor: actor,
                        action: .tokenRefreshed,
                        merchantId: connection.merchantId,
                        detail:
                            "expires_at=\(answer.expiresAt ?? "-") refresh_token_rotated=\(answer.refreshToken != nil && connection.flow == .pkce)"
                    )
                )
                guard saved else { return .revokedMeanwhile }
                logger.info("Token refreshed", metadata: ["merchant_id": .string(connection.merchantId)])
                return .refreshed(expiresAt: expiresAt)
            } catch {
                logger.critical(
                    "Could not store refreshed tokens",
                    metadata: ["merchant_id": .string(connection.merchantId), "attempt": "\(attempt)", "error": "\(error)"]
                )
            }
        }
        return .retryLater(reason: "the refreshed tokens could not be stored", at: now.addingTimeInterval(settings.backoff))
    }

    private nonisolated func failed(_ lease: RefreshLease, error: SquareError, actor: AuditActor) async -> Outcome {
        let connection = lease.connection
        let now = clock.now()
        let square = "Square answered \(error.statusCode.map { "HTTP \($0)" } ?? "nothing")"
        let code = error.errors.first?.code ?? error.legacy?.message ?? error.transportFailure ?? error.kind.rawValue
        switch error.kind {
        case .invalidGrant, .unauthorized, .invalidRequest:
            var reason = "\(square) (\(code)) to the refresh: the merchant must connect again"
            if lease.previousAttemptInterrupted || connection.refreshFailureCount > 0 {
                // The likely story in the PKCE flow: an earlier attempt spent the single-use token and its answer was lost.
                reason += "; an earlier refresh attempt did not finish (\(connection.lastError ?? "interrupted before storing its result"))"
            }
            do {
                try await store.markNeedsReauth(
                    connectionId: connection.id,
                    reason: reason,
                    now: now,
                    audit: AuditEventRecord(
                        occurredAt: now,
                        actor: actor,
                        action: .tokenNeedsReauth,
                        merchantId: connection.merchantId,
                        detail: reason
                    )
                )
            } catch {
                logger.error("Could not mark a connection needs_reauth", metadata: ["error": "\(error)"])
            }
            logger.warning(
                "Refresh rejected; merchant must re-authorize",
                metadata: ["merchant_id": .string(connection.merchantId), "code": .string(code)]
            )
            return .needsReauth(reason: reason)
        case .rateLimited, .transient, .malformedResponse:
            var reason = "\(square) (\(code))"
            if error.mayHaveBeenProcessed && connection.flow == .pkce {
                reason += "; Square may have used the single-use refresh token"
            }
            return await retryLater(
                connection.id,
                merchant: connection.merchantId,
                actor: actor,
                failures: connection.refreshFailureCount + 1,
                reason: reason,
                retryAfterSeconds: error.retryAfterSeconds
            )
        }
    }

    private nonisolated func retryLater(
        _ id: Int64,
        merchant: String,
        actor: AuditActor,
        failures: Int,
        reason: String,
        retryAfterSeconds: Int? = nil
    ) async -> Outcome {
        let now = clock.now()
        let retryAt = now.addingTimeInterval(settings.backoffDelay(failures: failures, retryAfterSeconds: retryAfterSeconds))
        do {
            try await store.recordRefreshFailure(
                connectionId: id,
                reason: reason,
                retryAt: retryAt,
                now: now,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: actor,
                    action: .tokenRefreshFailed,
                    merchantId: merchant,
                    detail: "\(reason); failure \(failures); retry at \(retryAt.formatted(.iso8601))"
                )
            )
        } catch {
            logger.error("Could not record a refresh failure", metadata: ["error": "\(error)"])
        }
        logger.warning("Refresh failed; will retry", metadata: ["merchant_id": .string(merchant), "failures": "\(failures)"])
        return .retryLater(reason: reason, at: retryAt)
    }
}
