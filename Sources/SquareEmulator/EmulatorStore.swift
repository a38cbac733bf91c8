import Foundation
import OnboardCrypto
import SquareOAuth

/// Everything the emulated Square remembers; mutated only under `SquareEmulator`'s lock.
struct EmulatorStore: Sendable {
    var application: EmulatedApplication
    var lifetimes: EmulatorLifetimes
    var merchants: [EmulatedMerchant]
    var pendingConsents: [String: PendingConsent] = [:]
    var codes: [String: IssuedCode] = [:]
    var grants: [String: Grant] = [:]
    var accessTokens: [String: AccessTokenRecord] = [:]
    var refreshTokens: [String: RefreshTokenRecord] = [:]
    var migrationTokens: [String: MigrationTokenRecord] = [:]
    var faults: [EmulatorFault] = []
    var callCounts: [String: Int] = [:]
    /// Calls being answered now, and the most there were at once, per path.
    var callsInFlight: [String: Int] = [:]
    var peakCallsInFlight: [String: Int] = [:]
    /// Calls answered already whose answer a latency fault holds back (`afterProcessing`), by path.
    var answersHeldBack: [String: Int] = [:]
    var clockOffset: TimeInterval = 0

    // MARK: ObtainToken

    /// `POST /oauth2/token` for all three grant types.
    mutating func obtainToken(_ request: ObtainTokenRequest, now: Date) -> EmulatorAnswer {
        if let problem = validate(request) { return problem }
        guard request.clientId == application.clientId else { return .notAuthorized }
        if let secret = request.clientSecret, !ConstantTime.equals(secret.value, application.clientSecret) {
            return .notAuthorized
        }
        if let redirect = request.redirectUri, redirect != application.redirectURL {
            return .invalid("INVALID_VALUE", field: "redirect_uri", "redirect_uri does not match the registered URL")
        }
        switch GrantType(rawValue: request.grantType) {
        case .authorizationCode: return exchangeCode(request, now: now)
        case .refreshToken: return refresh(request, now: now)
        case .migrationToken: return migrate(request, now: now)
        case nil: return .invalid("INVALID_VALUE", field: "grant_type", "grant_type must be authorization_code, refresh_token or migration_token")
        }
    }

    private func validate(_ request: ObtainTokenRequest) -> EmulatorAnswer? {
        let limits: [(String, String?, ClosedRange<Int>)] = [
            ("client_id", request.clientId, 1...191),
            ("client_secret", request.clientSecret?.value, 2...1024),
            ("code", request.code?.value, 1...191),
            ("redirect_uri", request.redirectUri, 1...2048),
            ("grant_type", request.grantType, 10...20),
            ("refresh_token", request.refreshToken?.value, 2...1024),
            ("migration_token", request.migrationToken?.value, 2...1024),
            ("code_verifier", request.codeVerifier?.value, 43...128),
        ]
        for (field, value, range) in limits {
            guard let value else { continue }
            if value.isEmpty && (field == "client_id" || field == "grant_type") {
                return .invalid("MISSING_REQUIRED_PARAMETER", field: field, "Missing required parameter: \(field)")
            }
            if value.count < range.lowerBound {
                return .invalid("VALUE_TOO_SHORT", field: field, "\(field) must be at least \(range.lowerBound) characters")
            }
            if value.count > range.upperBound {
                return .invalid("VALUE_TOO_LONG", field: field, "\(field) must be at most \(range.upperBound) characters")
            }
        }
        return nil
    }

    private mutating func exchangeCode(_ request: ObtainTokenRequest, now: Date) -> EmulatorAnswer {
        guard let code = request.code?.value else {
            return .invalid("MISSING_REQUIRED_PARAMETER", field: "code", "Missing required parameter: code")
        }
        guard var issued = codes[code] else { return .unauthorized("Authorization code not found") }
        guard issued.redeemedAt == nil else { return .unauthorized("Authorization code is already redeemed") }
        guard now.timeIntervalSince(issued.issuedAt) <= lifetimes.authorizationCode else {
            return .unauthorized("Authorization code is expired")
        }
        if let challenge = issued.codeChallenge {
            guard let verifier = request.codeVerifier?.value else {
                return .invalid("MISSING_REQUIRED_PARAMETER", field: "code_verifier", "Missing required parameter: code_verifier")
            }
            guard ConstantTime.equals(CodeVerifier.challenge(for: verifier), challenge) else {
                return .unauthorized("code_verifier does not match the code_challenge")
            }
        } else if request.clientSecret == nil {
            return .invalid("MISSING_REQUIRED_PARAMETER", field: "client_secret", "Missing required parameter: client_secret")
        }
        issued.redeemedAt = now
        codes[code] = issued
        let flow: GrantFlow = request.clientSecret == nil ? .pkce : .code
        grants[issued.merchantId] = Grant(merchantId: issued.merchantId, scopes: issued.scopes, flow: flow, grantedAt: now)
        let refresh = issueRefreshToken(merchantId: issued.merchantId, flow: flow, now: now)
        return issueAccessToken(
            merchantId: issued.merchantId,
            scopes: issued.scopes,
            shortLived: request.shortLived ?? false,
            refresh: refresh,
            now: now
        )
    }

    private mutating func refresh(_ request: ObtainTokenRequest, now: Date) -> EmulatorAnswer {
        guard let token = request.refreshToken?.value else {
            return .invalid("MISSING_REQUIRED_PARAMETER", field: "refresh_token", "Missing required parameter: refresh_token")
        }
        guard var record = refreshTokens[token], record.revokedAt == nil, record.usedAt == nil,
            record.expiresAt.map({ now < $0 }) ?? true,
            let grant = grants[record.merchantId], grant.revokedAt == nil
        else { return .invalidRefreshToken }
        if record.flow == .code && request.clientSecret == nil { return .notAuthorized }
        let scopes = request.scopes.map { asked in grant.scopes.filter(asked.contains) } ?? grant.scopes
        let refresh: (token: String, expiresAt: Date?)
        switch record.flow {
        case .code:
            refresh = (token, nil)
        case .pkce:
            record.usedAt = now
            refreshTokens[token] = record
            refresh = issueRefreshToken(merchantId: record.merchantId, flow: .pkce, now: now)
        }
        return issueAccessToken(
            merchantId: record.merchantId,
            scopes: scopes,
            shortLived: request.shortLived ?? false,
            refresh: refresh,
            now: now
        )
    }

    private mutating func migrate(_ request: ObtainTokenRequest, now: Date) -> EmulatorAnswer {
        guard let token = request.migrationToken?.value else {
            return .invalid("MISSING_REQUIRED_PARAMETER", field: "migration_token", "Missing required parameter: migration_token")
        }
        guard request.clientSecret != nil else {
            return .invalid("MISSING_REQUIRED_PARAMETER", field: "client_secret", "Missing required parameter: client_secret")
        }
        guard var record = migrationTokens[token], record.usedAt == nil else {
            return .legacy(status: 401, SquareLegacyError(message: "Invalid migration token", type: "service.not_authorized"))
        }
        record.usedAt = now
        migrationTokens[token] = record
        grants[record.merchantId] = Grant(merchantId: record.merchantId, scopes: record.scopes, flow: .code, grantedAt: now)
        let refresh = issueRefreshToken(merchantId: record.merchantId, flow: .code, now: now)
        return issueAccessToken(merchantId: record.merchantId, scopes: record.scopes, shortLived: false, refresh: refresh, now: now)
    }

    private mutating func issueRefreshToken(merchantId: String, flow: GrantFlow, now: Date) -> (token: String, expiresAt: Date?) {
        let token = "EQAA" + SecureRandom.token(length: 60, alphabet: SquareIdentifiers.alphanumerics)
        let expiresAt = flow == .pkce ? now.addingTimeInterval(lifetimes.pkceRefreshToken) : nil
        refreshTokens[token] = RefreshTokenRecord(merchantId: merchantId, flow: flow, expiresAt: expiresAt)
        return (token, expiresAt)
    }

    private mutating func issueAccessToken(
        merchantId: String,
        scopes: [String],
        shortLived: Bool,
        refresh: (token: String, expiresAt: Date?),
        now: Date
    ) -> EmulatorAnswer {
        let token = "EAAA" + SecureRandom.token(length: 60, alphabet: SquareIdentifiers.alphanumerics)
        let expiresAt = now.addingTimeInterval(shortLived ? lifetimes.shortLivedAccessToken : lifetimes.accessToken)
        accessTokens[token] = AccessTokenRecord(merchantId: merchantId, scopes: scopes, expiresAt: expiresAt)
        return .success(
            ObtainTokenResponse(
                accessToken: Secret(token),
                tokenType: "bearer",
                expiresAt: expiresAt.rfc3339,
                merchantId: merchantId,
                refreshToken: Secret(refresh.token),
                shortLived: shortLived,
                refreshTokenExpiresAt: refresh.expiresAt?.rfc3339
            )
        )
    }

    // MARK: RevokeToken, RetrieveTokenStatus, RenewToken

    /// Checks `Authorization: Client SECRET` as RevokeToken and RenewToken require.
    func checkClientAuthorization(_ header: String?) -> EmulatorAnswer? {
        guard let header, !header.isEmpty else { return .notAuthorized }
        guard header.hasPrefix("Client ") else { return .badAuthorizationHeader }
        let secret = String(header.dropFirst("Client ".count))
        return ConstantTime.equals(secret, application.clientSecret) ? nil : .notAuthorized
    }

    /// `POST /oauth2/revoke`; returns the merchant whose authorization ended, for the revocation webhook.
    mutating func revoke(
        _ request: RevokeTokenRequest,
        authorization: String?,
        now: Date
    ) -> (answer: EmulatorAnswer, revokedMerchant: String?) {
        if let problem = checkClientAuthorization(authorization) { return (problem, nil) }
        guard !request.clientId.isEmpty else {
            return (.invalid("MISSING_REQUIRED_PARAMETER", field: "client_id", "Missing required parameter: client_id"), nil)
        }
        guard request.clientId == application.clientId else { return (.notAuthorized, nil) }
        let merchantId: String
        switch (request.accessToken?.value, request.merchantId) {
        case (let token?, nil):
            guard let record = accessTokens[token] else {
                return (
                    .envelope(
                        status: 404,
                        [
                            SquareAPIError(
                                category: "INVALID_REQUEST_ERROR",
                                code: "NOT_FOUND",
                                detail: "Access token not found"
                            )
                        ]
                    ), nil
                )
            }
            merchantId = record.merchantId
        case (nil, let merchant?):
            guard grants[merchant] != nil else {
                return (
                    .envelope(
                        status: 404,
                        [
                            SquareAPIError(
                                category: "INVALID_REQUEST_ERROR",
                                code: "NOT_FOUND",
                                detail: "No authorization for merchant_id"
                            )
                        ]
                    ), nil
                )
            }
            merchantId = merchant
        default:
            return (.invalid("INVALID_VALUE", field: "access_token", "Provide exactly one of access_token or merchant_id"), nil)
        }
        let onlyAccess = request.revokeOnlyAccessToken ?? false
        let ended = revokeAll(merchantId: merchantId, includingRefreshTokens: !onlyAccess, now: now)
        return (.success(RevokeTokenResponse(success: true)), ended ? merchantId : nil)
    }

    /// Revokes a merchant's tokens; returns true when the authorization itself ended just now.
    mutating func revokeAll(merchantId: String, includingRefreshTokens: Bool, now: Date) -> Bool {
        for (token, record) in accessTokens where record.merchantId == merchantId && record.revokedAt == nil {
            accessTokens[token]?.revokedAt = now
        }
        guard includingRefreshTokens else { return false }
        for (token, record) in refreshTokens where record.merchantId == merchantId && record.revokedAt == nil {
            refreshTokens[token]?.revokedAt = now
        }
        guard grants[merchantId]?.revokedAt == nil, grants[merchantId] != nil else { return false }
        grants[merchantId]?.revokedAt = now
        return true
    }

    /// `POST /oauth2/token/status` with `Authorization: Bearer TOKEN`.
    func tokenStatus(authorization: String?, now: Date) -> EmulatorAnswer {
        guard let header = authorization, header.hasPrefix("Bearer "), header.count > "Bearer ".count else {
            return .unauthorized("The request needs an Authorization: Bearer header")
        }
        guard let record = accessTokens[String(header.dropFirst("Bearer ".count))] else {
            return .unauthorized("This request could not be authorized")
        }
        if record.revokedAt != nil { return .unauthorized("The access token has been revoked", code: "ACCESS_TOKEN_REVOKED") }
        if now >= record.expiresAt { return .unauthorized("The access token has expired", code: "ACCESS_TOKEN_EXPIRED") }
        return .success(
            RetrieveTokenStatusResponse(
                scopes: record.scopes,
                expiresAt: record.expiresAt.rfc3339,
                clientId: application.clientId,
                merchantId: record.merchantId
            )
        )
    }

    /// `POST /oauth2/clients/{client_id}/access-token/renew` (deprecated by Square).
    mutating func renew(clientId: String, _ request: RenewTokenRequest, authorization: String?, now: Date) -> EmulatorAnswer {
        if let problem = checkClientAuthorization(authorization) { return problem }
        guard clientId == application.clientId else { return .notAuthorized }
        guard let token = request.accessToken?.value, !token.isEmpty else {
            return .invalid("MISSING_REQUIRED_PARAMETER", field: "access_token", "Missing required parameter: access_token")
        }
        guard let record = accessTokens[token] else { return .unauthorized("This request could not be authorized") }
        if record.revokedAt != nil {
            return .legacy(status: 400, SquareLegacyError(message: "cannot renew revoked token", type: "bad_request"))
        }
        if now.timeIntervalSince(record.expiresAt) > lifetimes.renewWindowAfterExpiry {
            return .legacy(
                status: 400,
                SquareLegacyError(
                    message: "cannot renew token expired more than 15 days ago",
                    type: "bad_request"
                )
            )
        }
        let renewed = "EAAA" + SecureRandom.token(length: 60, alphabet: SquareIdentifiers.alphanumerics)
        let expiresAt = now.addingTimeInterval(lifetimes.accessToken)
        accessTokens[renewed] = AccessTokenRecord(merchantId: record.merchantId, scopes: record.scopes, expiresAt: expiresAt)
        return .success(
            RenewTokenResponse(
                accessToken: Secret(renewed),
                tokenType: "bearer",
                expiresAt: expiresAt.rfc3339,
                merchantId: record.merchantId
            )
        )
    }
}
