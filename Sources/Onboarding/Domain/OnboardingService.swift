import Foundation
import Logging
import OnboardCrypto
import SquareOAuth

/// The merchant flow: start an authorization, complete Square's callback, show and end the connection.
struct OnboardingService: Sendable {
    let configuration: AppConfiguration
    let database: AppDatabase
    let square: SquareOAuthClient
    let vault: TokenVault
    let clock: AppClock
    let logger: Logger

    static let authorizationLifetime: TimeInterval = 10 * 60
    static let merchantSessionLifetime: TimeInterval = 60 * 60

    var environmentName: String { configuration.squareEnvironment.description }

    /// Creates the authorization row (hashed state, sealed verifier) and returns Square's consent URL.
    func startAuthorization(browserBinding: String) throws -> URL {
        let now = clock.now()
        let state = SecureRandom.urlSafeToken(byteCount: 32)
        let stateHash = sha256Hex(state)
        let verifier = CodeVerifier()
        let authorization = AuthorizationRecord(
            stateHash: stateHash,
            sealedCodeVerifier: try vault.sealCodeVerifier(verifier, stateHash: stateHash),
            scopes: configuration.scopes.joined(separator: " "),
            flow: configuration.flow.rawValue,
            browserBindingHash: sha256Hex(browserBinding),
            createdAt: now,
            expiresAt: now.addingTimeInterval(Self.authorizationLifetime)
        )
        try database.startAuthorization(
            authorization,
            audit: AuditEventRecord(
                occurredAt: now,
                actor: "merchant",
                action: "authorization.started",
                detail: "flow=\(configuration.flow.rawValue) scopes=\(authorization.scopes)"
            )
        )
        return AuthorizeURL(
            environment: configuration.squareEnvironment,
            clientId: configuration.squareClientId,
            scopes: configuration.scopes,
            state: state,
            codeChallenge: verifier.codeChallenge,
            redirectURI: configuration.redirectURL
        ).url
    }

    /// The query Square sends back to `/oauth/callback`.
    struct Callback: Sendable {
        var state: String?
        var code: String?
        var error: String?
    }

    /// A browser session for the merchant who just connected.
    struct MerchantSessionGrant: Sendable {
        var token: String
        var connection: ConnectionRecord
    }

    /// Validates and consumes the state, exchanges the code, stores the connection and opens a merchant session.
    func completeAuthorization(_ callback: Callback, browserBinding: String?) async throws(OnboardingError) -> MerchantSessionGrant {
        guard let state = callback.state, !state.isEmpty else { throw .missingState }
        let stateHash = sha256Hex(state)
        let now = clock.now()
        let authorization = try await consume(stateHash: stateHash, browserBinding: browserBinding, now: now)

        if let error = callback.error {
            let failure: OnboardingError = error == "access_denied" ? .accessDenied : .squareReportedError(error)
            record(
                outcome: error == "access_denied" ? "denied" : "square_error",
                stateHash: stateHash,
                action: "authorization.denied",
                detail: "error=\(error)"
            )
            throw failure
        }
        guard let code = callback.code, !code.isEmpty else {
            record(outcome: "missing_code", stateHash: stateHash, action: "authorization.failed", detail: "reason=missing_code")
            throw .missingCode
        }

        let token: ObtainTokenResponse
        do {
            let verifier = try vault.openCodeVerifier(authorization.sealedCodeVerifier, stateHash: stateHash)
            token = try await square.obtainToken(
                .authorizationCode(
                    clientId: configuration.squareClientId,
                    code: Secret(code),
                    codeVerifier: verifier,
                    clientSecret: configuration.flow == .code ? configuration.squareClientSecret : nil,
                    redirectUri: configuration.redirectURL
                )
            )
        } catch let error as SquareError {
            let failure = OnboardingError(exchangeFailure: error)
            record(
                outcome: "exchange_failed",
                stateHash: stateHash,
                action: "authorization.failed",
                detail: "reason=\(failure.code) square=\(error.kind.rawValue) status=\(error.statusCode.map(String.init) ?? "-")"
            )
            throw failure
        } catch {
            logger.error("Could not open the sealed code verifier", metadata: ["error": "\(error)"])
            throw .unknownState
        }
        return try await store(token, authorization: authorization, stateHash: stateHash)
    }

    private func consume(stateHash: String, browserBinding: String?, now: Date) async throws(OnboardingError) -> AuthorizationRecord {
        let check: AppDatabase.StateCheck
        do {
            check = try database.consumeAuthorization(
                stateHash: stateHash,
                browserBindingHash: browserBinding.map(sha256Hex),
                now: now
            )
        } catch {
            logger.error("Database failure while checking state", metadata: ["error": "\(error)"])
            throw .squareUnavailable
        }
        let rejection: OnboardingError
        switch check {
        case .accepted(let authorization): return authorization
        case .unknown: rejection = .unknownState
        case .expired: rejection = .expiredState
        case .reused: rejection = .reusedState
        case .otherBrowser: rejection = .stateFromAnotherBrowser
        }
        try? database.recordAudit(
            AuditEventRecord(
                occurredAt: now,
                actor: "merchant",
                action: "authorization.rejected",
                detail: "reason=\(rejection.code)"
            )
        )
        throw rejection
    }

    private func store(
        _ token: ObtainTokenResponse,
        authorization: AuthorizationRecord,
        stateHash: String
    ) async throws(OnboardingError) -> MerchantSessionGrant {
        let now = clock.now()
        guard let accessToken = token.accessToken, let merchantId = token.merchantId else { throw .squareUnavailable }
        // Square's answer has no scopes; RetrieveTokenStatus tells what was granted. If it fails, keep what was asked.
        var scopes = authorization.scopes
        var confirmed = false
        if let status = try? await square.retrieveTokenStatus(accessToken: accessToken), let granted = status.scopes {
            scopes = granted.joined(separator: " ")
            confirmed = true
        }
        let sessionToken = SecureRandom.urlSafeToken(byteCount: 32)
        do {
            let grant = ConnectionGrant(
                environment: environmentName,
                merchantId: merchantId,
                sealedAccessToken: try vault.sealAccessToken(accessToken, environment: environmentName, merchantId: merchantId),
                sealedRefreshToken: try token.refreshToken.map {
                    try vault.sealRefreshToken($0, environment: environmentName, merchantId: merchantId)
                },
                tokenType: token.tokenType ?? "bearer",
                expiresAt: token.expiresAt.flatMap(Self.parseDate),
                refreshTokenExpiresAt: token.refreshTokenExpiresAt.flatMap(Self.parseDate),
                scopes: scopes,
                scopesConfirmed: confirmed,
                shortLived: token.shortLived ?? false,
                flow: authorization.flow,
                receivedAt: now
            )
            let connection = try database.saveConnection(
                grant,
                stateHash: stateHash,
                session: (
                    sha256Hex(sessionToken), SecureRandom.urlSafeToken(byteCount: 32),
                    now.addingTimeInterval(Self.merchantSessionLifetime)
                ),
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: "merchant",
                    action: "connection.connected",
                    merchantId: merchantId,
                    detail: "flow=\(authorization.flow) scopes=\(scopes)"
                )
            )
            logger.info("Merchant connected", metadata: ["merchant_id": .string(merchantId)])
            return MerchantSessionGrant(token: sessionToken, connection: connection)
        } catch {
            // Square issued tokens we could not keep: say so loudly; the merchant can simply connect again.
            logger.critical("Could not store a new connection", metadata: ["merchant_id": .string(merchantId), "error": "\(error)"])
            throw .squareUnavailable
        }
    }

    /// The merchant session a browser cookie names, with its connection.
    func merchantSession(token: String?) throws(OnboardingError) -> (session: MerchantSessionRecord, connection: ConnectionRecord) {
        guard let token, !token.isEmpty,
            let found = try? database.merchantSession(hash: sha256Hex(token), now: clock.now())
        else { throw .noMerchantSession }
        return found
    }

    /// Revokes the merchant's authorization at Square, then marks the connection revoked.
    func disconnect(sessionToken: String?, csrfToken: String?) async throws(OnboardingError) -> ConnectionRecord {
        let (session, connection) = try merchantSession(token: sessionToken)
        guard let csrfToken, ConstantTime.equals(csrfToken, session.csrfToken) else { throw .csrfRejected }
        guard connection.status != ConnectionStatus.revoked.rawValue else { return connection }
        guard let secret = configuration.squareClientSecret else { throw .disconnectNeedsClientSecret }
        let now = clock.now()
        do {
            _ = try await square.revokeToken(
                RevokeTokenRequest(clientId: configuration.squareClientId, merchantId: connection.merchantId),
                clientSecret: secret
            )
        } catch  where error.statusCode == 404 {
            // Square no longer knows this authorization: it is already gone on Square's side.
        } catch {
            try? database.recordAudit(
                AuditEventRecord(
                    occurredAt: now,
                    actor: "merchant",
                    action: "connection.disconnect_failed",
                    merchantId: connection.merchantId,
                    detail: "square=\(error.kind.rawValue) status=\(error.statusCode.map(String.init) ?? "-")"
                )
            )
            throw .disconnectFailed
        }
        do {
            try database.markRevoked(
                connectionId: connection.id!,
                by: "merchant",
                now: now,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: "merchant",
                    action: "connection.revoked",
                    merchantId: connection.merchantId
                )
            )
        } catch {
            logger.critical(
                "Square revoked the merchant but the database update failed",
                metadata: ["merchant_id": .string(connection.merchantId), "error": "\(error)"]
            )
            throw .disconnectFailed
        }
        return try merchantSession(token: sessionToken).connection
    }

    private func record(outcome: String, stateHash: String, action: String, detail: String) {
        try? database.recordAuthorizationOutcome(
            stateHash: stateHash,
            outcome: outcome,
            audit: AuditEventRecord(occurredAt: clock.now(), actor: "merchant", action: action, detail: detail)
        )
    }

    static func parseDate(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }
}
