import Foundation
import Logging
import OnboardCrypto
import SquareOAuth

/// The merchant flow: start an authorization, complete Square's callback, find and end the connection.
struct OnboardingService: Sendable {
    let configuration: AppConfiguration
    let store: any AuthorizationStore & ConnectionStore & OnboardingLinkStore & PartnerStore & AuditLog
    let square: SquareOAuthClient
    let vault: TokenVault
    let clock: AppClock
    let logger: Logger
    /// Checks a new connection's token status with Square after the callback has answered; nil: the sweep does.
    var newConnectionChecks: NewConnectionChecks? = nil
    /// Disconnects in flight in this process, one per connection; the store's revocation claim covers other processes.
    let disconnects = SingleFlight<Int64, ConnectionRecord, OnboardingError>()

    static let merchantSessionLifetime: TimeInterval = 60 * 60

    /// The stable environment name stored with connections and bound into their sealed tokens.
    var environmentName: String { configuration.environmentIdentity }

    /// Creates the authorization row (hashed state, sealed verifier) and returns Square's consent URL; a partner's
    /// link (checked again here) sets the scopes and where the merchant returns.
    func startAuthorization(browserBinding: String, linkId: String? = nil) async throws(OnboardingError) -> URL {
        var link: OnboardingLinkRecord?
        if let linkId { link = try await openableLink(id: linkId).link }
        let scopes = link.map { $0.scopes.split(separator: " ").map(String.init) } ?? configuration.scopes
        let now = clock.now()
        let state = SecureRandom.urlSafeToken(byteCount: 32)
        let stateHash = sha256Hex(state)
        let verifier = CodeVerifier()
        let sealedVerifier: String
        do {
            sealedVerifier = try vault.sealCodeVerifier(verifier, stateHash: stateHash)
        } catch {
            logger.error("Could not seal a code verifier", metadata: ["error": "\(error)"])
            throw .storageUnavailable
        }
        let authorization = AuthorizationRecord(
            stateHash: stateHash,
            sealedCodeVerifier: sealedVerifier,
            scopes: scopes.joined(separator: " "),
            flow: configuration.flow,
            partnerLinkId: link?.id,
            returnUrl: link?.returnUrl,
            browserBindingHash: sha256Hex(browserBinding),
            createdAt: now,
            expiresAt: now.addingTimeInterval(configuration.authorizationLifetime)
        )
        try await storing("starting an authorization") {
            try await store.beginAuthorization(
                authorization,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: .merchant,
                    action: .authorizationStarted,
                    detail: "flow=\(configuration.flow.rawValue) scopes=\(authorization.scopes)" + (link.map { " link=\($0.id)" } ?? "")
                )
            )
        }
        return AuthorizeURL(
            environment: configuration.squareEnvironment,
            clientId: configuration.squareClientId,
            scopes: scopes,
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
        /// Where a partner's merchant goes back to, signed; nil outside a partner's link.
        var partnerReturn: PartnerReturn? = nil
    }

    /// Validates and consumes the state, exchanges the code, stores the connection and opens a merchant session.
    func completeAuthorization(_ callback: Callback, browserBinding: String?) async throws(OnboardingError) -> MerchantSessionGrant {
        guard let state = callback.state, !state.isEmpty else { throw .missingState }
        let stateHash = sha256Hex(state)
        let authorization = try await consume(stateHash: stateHash, browserBinding: browserBinding, now: clock.now())

        if let error = callback.error {
            let failure: OnboardingError = error == "access_denied" ? .accessDenied : .squareReportedError(error)
            await close(stateHash, failure == .accessDenied ? .denied : .squareError, action: .authorizationDenied, detail: "error=\(error)", failure)
            throw failure
        }
        guard let code = callback.code, !code.isEmpty else {
            await close(stateHash, .missingCode, action: .authorizationFailed, detail: "reason=missing_code", .missingCode)
            throw .missingCode
        }
        let partnerLink = try await partnerLink(of: authorization)
        if let found = partnerLink, found.link.cancelledAt != nil, found.link.usedAt == nil {
            // The partner cancelled the link while the merchant was at Square: its code is never exchanged.
            await close(stateHash, .linkCancelled, action: .authorizationFailed, detail: "reason=link_cancelled link=\(found.link.id)", nil)
            throw .linkCancelled(partner: found.partner.displayName)
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
            await close(
                stateHash,
                .exchangeFailed,
                action: .authorizationFailed,
                detail: "reason=\(failure.code) square=\(error.kind.rawValue) status=\(error.statusCode.map(String.init) ?? "-")",
                failure
            )
            throw failure
        } catch {
            logger.error("Could not open the sealed code verifier", metadata: ["error": "\(error)"])
            throw .unknownState
        }
        return try await store(token, authorization: authorization, stateHash: stateHash, partnerLink: partnerLink)
    }

    private func consume(stateHash: String, browserBinding: String?, now: Date) async throws(OnboardingError) -> AuthorizationRecord {
        let check = try await storing("checking a callback's state") {
            try await store.consumeAuthorization(stateHash: stateHash, browserBindingHash: browserBinding.map(sha256Hex), now: now)
        }
        let rejection: OnboardingError
        switch check {
        case .accepted(let authorization): return authorization
        case .unknown: rejection = .unknownState
        case .expired: rejection = .expiredState
        case .reused: rejection = .reusedState
        case .otherBrowser: rejection = .stateFromAnotherBrowser
        }
        try await storing("auditing a rejected callback") {
            try await store.appendAudit(
                AuditEventRecord(occurredAt: now, actor: .merchant, action: .authorizationRejected, detail: "reason=\(rejection.code)")
            )
        }
        throw rejection
    }

    private func store(
        _ token: ObtainTokenResponse,
        authorization: AuthorizationRecord,
        stateHash: String,
        partnerLink: FoundLink?
    ) async throws(OnboardingError) -> MerchantSessionGrant {
        let now = clock.now()
        guard let accessToken = token.accessToken, let merchantId = token.merchantId else { throw .squareUnavailable }
        // Square's answer has no scopes: the connection starts with those asked for, and RetrieveTokenStatus, called
        // after the merchant has their answer (`NewConnectionChecks`), records those granted.
        let scopes = authorization.scopes
        let sessionToken = SecureRandom.urlSafeToken(byteCount: 32)
        let grant: ConnectionGrant
        do {
            grant = ConnectionGrant(
                environment: environmentName,
                merchantId: merchantId,
                sealedAccessToken: try vault.sealAccessToken(accessToken, environment: environmentName, merchantId: merchantId),
                sealedRefreshToken: try token.refreshToken.map {
                    try vault.sealRefreshToken($0, environment: environmentName, merchantId: merchantId)
                },
                tokenType: token.tokenType ?? "bearer",
                expiresAt: token.expiresAt.flatMap(SquareDate.parse),
                refreshTokenExpiresAt: token.refreshTokenExpiresAt.flatMap(SquareDate.parse),
                scopes: scopes,
                scopesConfirmed: false,
                shortLived: token.shortLived ?? false,
                flow: authorization.flow,
                receivedAt: now,
                partnerLink: partnerLink.map { PartnerLinkUse(linkId: $0.link.id, partnerId: $0.partner.id, reference: $0.link.reference) }
            )
        } catch {
            logger.critical("Could not seal new tokens", metadata: ["merchant_id": .string(merchantId), "error": "\(error)"])
            throw .storageUnavailable
        }
        // Square issued tokens we may not keep: the merchant can simply connect again.
        let saved = try await storing("storing a new connection", merchantId: merchantId) {
            try await store.saveConnection(
                grant,
                stateHash: stateHash,
                session: MerchantSessionSeed(
                    hash: sha256Hex(sessionToken),
                    csrfToken: SecureRandom.urlSafeToken(byteCount: 32),
                    expiresAt: now.addingTimeInterval(Self.merchantSessionLifetime)
                ),
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: .merchant,
                    action: .connectionConnected,
                    merchantId: merchantId,
                    detail: "flow=\(authorization.flow.rawValue) scopes=\(scopes)"
                )
            )
        }
        guard !saved.heldByAnotherPartner else {
            logger.warning(
                "A partner's link reached a merchant another partner holds; nothing was changed",
                metadata: ["merchant_id": .string(merchantId)]
            )
            throw .connectedThroughAnotherPartner
        }
        newConnectionChecks?.enqueue(connectionId: saved.connection.id)
        logger.info("Merchant connected", metadata: ["merchant_id": .string(merchantId)])
        let partnerReturn = partnerLink.flatMap { found in
            returnToPartner(
                found,
                status: .connected,
                result: saved.reconnected ? "reconnected" : "created",
                merchantId: merchantId
            )
        }
        return MerchantSessionGrant(token: sessionToken, connection: saved.connection, partnerReturn: partnerReturn)
    }

    /// The live merchant session a browser cookie names, with its connection.
    func merchantSession(token: String?) async throws(OnboardingError) -> MerchantSession {
        guard let token, !token.isEmpty else { throw .noMerchantSession }
        let found = try await storing("reading a merchant session") {
            try await store.merchantSession(hash: sha256Hex(token), now: clock.now())
        }
        guard let found else { throw .noMerchantSession }
        return found
    }

    /// Ends a connection: revokes at Square while it holds a token, then marks it revoked here.
    ///
    /// Exactly one caller talks to Square for a connection: callers in this process share one attempt, and the
    /// store's revocation claim makes other processes wait for its outcome. An active connection stays active when
    /// Square does not confirm; one that no longer works for the platform (`needs_reauth`, `expired`) is ended here
    /// whatever Square answers, and the audit log says what Square said.
    func disconnect(_ connection: ConnectionRecord, actor: AuditActor) async throws(OnboardingError) -> ConnectionRecord {
        try await disconnectJoining(connection, actor: actor).connection
    }

    /// `disconnect`, saying whether this call joined a disconnect of the connection already running in this process.
    func disconnectJoining(
        _ connection: ConnectionRecord,
        actor: AuditActor
    ) async throws(OnboardingError) -> (connection: ConnectionRecord, joined: Bool) {
        guard connection.status != .revoked else { return (connection, false) }
        let id = connection.id
        let answer = await disconnects.run(id) {
            do throws(OnboardingError) {
                return .success(try await self.revokeOnce(connectionId: id, actor: actor))
            } catch {
                return .failure(error)
            }
        }
        return (try answer.result.get(), answer.joined)
    }

    /// How long a revocation claim holds: two whole Square calls and a margin.
    var revocationClaimDuration: TimeInterval {
        2 * TimeInterval(configuration.squareTimeout.components.seconds) + 2
    }

    private func revokeOnce(connectionId id: Int64, actor: AuditActor) async throws(OnboardingError) -> ConnectionRecord {
        let owner = "disconnect-" + SecureRandom.urlSafeToken(byteCount: 9)
        let giveUpAt = clock.now().addingTimeInterval(revocationClaimDuration + 1)
        var claimed: ConnectionRecord?
        while claimed == nil {
            let now = clock.now()
            let claim = try await storing("claiming a disconnect") {
                try await store.claimRevocation(
                    connectionId: id,
                    owner: owner,
                    until: now.addingTimeInterval(revocationClaimDuration),
                    now: now
                )
            }
            switch claim {
            case .claimed(let connection): claimed = connection
            case .alreadyRevoked(let connection): return connection
            case .notFound: throw .notFound
            case .busy:
                // Another process is revoking it: its outcome is ours too, once its claim ends.
                guard clock.now() < giveUpAt else { throw .disconnectFailed }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        guard let connection = claimed else { throw .disconnectFailed }
        let squareOutcome: String
        do {
            squareOutcome = try await revokeAtSquare(connection, actor: actor)
        } catch {
            try await storing("releasing a disconnect claim") { try await store.releaseRevocationClaim(connectionId: id, owner: owner) }
            throw error
        }
        let now = clock.now()
        try await storing("marking a connection revoked", merchantId: connection.merchantId) {
            _ = try await store.markRevoked(
                connectionId: id,
                by: actor.description,
                now: now,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: actor,
                    action: .connectionRevoked,
                    merchantId: connection.merchantId,
                    detail: "was \(connection.status.rawValue); \(squareOutcome)"
                )
            )
        }
        let updated = try await storing("reading a connection") { try await store.connection(id: id) }
        return updated ?? connection
    }

    /// Asks Square to revoke; returns what to record, or throws when an active connection must stay active.
    private func revokeAtSquare(_ connection: ConnectionRecord, actor: AuditActor) async throws(OnboardingError) -> String {
        guard let secret = configuration.squareClientSecret else {
            guard connection.status != .active else { throw .disconnectNeedsClientSecret }
            return "not revoked at Square (no client secret configured); ended here"
        }
        do {
            _ = try await square.revokeToken(
                RevokeTokenRequest(clientId: configuration.squareClientId, merchantId: connection.merchantId),
                clientSecret: secret
            )
            return "revoked at Square"
        } catch  where error.statusCode == 404 {
            return "Square no longer knew the authorization"
        } catch {
            let detail = "square=\(error.kind.rawValue) status=\(error.statusCode.map(String.init) ?? "-")"
            guard connection.status != .active else {
                try await storing("auditing a failed disconnect") {
                    try await store.appendAudit(
                        AuditEventRecord(
                            occurredAt: clock.now(),
                            actor: actor,
                            action: .disconnectFailed,
                            merchantId: connection.merchantId,
                            detail: detail
                        )
                    )
                }
                throw .disconnectFailed
            }
            return "Square did not confirm (\(detail)); ended here"
        }
    }

    /// Records how a consumed authorization ended without a connection (and, for a partner's link, the link's result:
    /// `failure`'s); the merchant's page matters more than this write.
    private func close(
        _ stateHash: String,
        _ outcome: AuthorizationOutcome,
        action: AuditAction,
        detail: String,
        _ failure: OnboardingError?
    ) async {
        do {
            try await store.closeAuthorization(
                stateHash: stateHash,
                outcome: outcome,
                link: failure?.linkCompletion,
                audit: AuditEventRecord(occurredAt: clock.now(), actor: .merchant, action: action, detail: detail)
            )
        } catch {
            logger.error("Could not record how an authorization ended", metadata: ["error": "\(error)"])
        }
    }

    /// Runs one storage operation; a failure is logged with what was being done and surfaces as `storageUnavailable`.
    func storing<T>(
        _ what: String,
        merchantId: String? = nil,
        _ operation: () async throws -> T
    ) async throws(OnboardingError) -> T {
        let metadata: Logger.Metadata = merchantId.map { ["merchant_id": .string($0)] } ?? [:]
        return try await storageCall(what, logger: logger, metadata: metadata, unavailable: OnboardingError.storageUnavailable, operation)
    }
}
