/// One entry of Square's `errors` envelope.
public struct SquareAPIError: Codable, Sendable, Equatable {
    public var category: String
    public var code: String
    public var detail: String?
    public var field: String?

    public init(category: String, code: String, detail: String? = nil, field: String? = nil) {
        self.category = category
        self.code = code
        self.detail = detail
        self.field = field
    }
}

/// The older error shape some OAuth endpoints still answer with: `{"message": "...", "type": "..."}`.
public struct SquareLegacyError: Codable, Sendable, Equatable {
    public var message: String
    public var type: String

    public init(message: String, type: String) {
        self.message = message
        self.type = type
    }
}

/// The grant types ObtainToken accepts.
public enum GrantType: String, Codable, Sendable {
    case authorizationCode = "authorization_code"
    case refreshToken = "refresh_token"
    case migrationToken = "migration_token"
}

/// Body of `POST /oauth2/token` (ObtainToken).
public struct ObtainTokenRequest: Codable, Sendable, Equatable {
    public var clientId: String
    public var clientSecret: Secret?
    public var code: Secret?
    public var redirectUri: String?
    public var grantType: String
    public var refreshToken: Secret?
    public var migrationToken: Secret?
    public var scopes: [String]?
    public var shortLived: Bool?
    public var codeVerifier: Secret?

    enum CodingKeys: String, CodingKey {
        case clientId = "client_id"
        case clientSecret = "client_secret"
        case code
        case redirectUri = "redirect_uri"
        case grantType = "grant_type"
        case refreshToken = "refresh_token"
        case migrationToken = "migration_token"
        case scopes
        case shortLived = "short_lived"
        case codeVerifier = "code_verifier"
    }

    public init(
        clientId: String,
        clientSecret: Secret? = nil,
        code: Secret? = nil,
        redirectUri: String? = nil,
        grantType: String,
        refreshToken: Secret? = nil,
        migrationToken: Secret? = nil,
        scopes: [String]? = nil,
        shortLived: Bool? = nil,
        codeVerifier: Secret? = nil
    ) {
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.code = code
        self.redirectUri = redirectUri
        self.grantType = grantType
        self.refreshToken = refreshToken
        self.migrationToken = migrationToken
        self.scopes = scopes
        self.shortLived = shortLived
        self.codeVerifier = codeVerifier
    }

    /// Exchange an authorization code: PKCE when `codeVerifier` is given, the code flow when `clientSecret` is.
    public static func authorizationCode(
        clientId: String,
        code: Secret,
        codeVerifier: Secret? = nil,
        clientSecret: Secret? = nil,
        redirectUri: String? = nil,
        shortLived: Bool? = nil
    ) -> ObtainTokenRequest {
        ObtainTokenRequest(
            clientId: clientId,
            clientSecret: clientSecret,
            code: code,
            redirectUri: redirectUri,
            grantType: GrantType.authorizationCode.rawValue,
            shortLived: shortLived,
            codeVerifier: codeVerifier
        )
    }

    /// Refresh an access token; the code flow needs `clientSecret`, PKCE does not.
    public static func refresh(
        clientId: String,
        refreshToken: Secret,
        clientSecret: Secret? = nil,
        scopes: [String]? = nil,
        shortLived: Bool? = nil
    ) -> ObtainTokenRequest {
        ObtainTokenRequest(
            clientId: clientId,
            clientSecret: clientSecret,
            grantType: GrantType.refreshToken.rawValue,
            refreshToken: refreshToken,
            scopes: scopes,
            shortLived: shortLived
        )
    }
}

/// Answer of ObtainToken. Square sends no `scopes` here: read them with RetrieveTokenStatus.
public struct ObtainTokenResponse: Codable, Sendable, Equatable {
    public var accessToken: Secret?
    public var tokenType: String?
    public var expiresAt: String?
    public var merchantId: String?
    public var subscriptionId: String?
    public var planId: String?
    public var idToken: Secret?
    public var refreshToken: Secret?
    public var shortLived: Bool?
    public var refreshTokenExpiresAt: String?
    public var errors: [SquareAPIError]?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresAt = "expires_at"
        case merchantId = "merchant_id"
        case subscriptionId = "subscription_id"
        case planId = "plan_id"
        case idToken = "id_token"
        case refreshToken = "refresh_token"
        case shortLived = "short_lived"
        case refreshTokenExpiresAt = "refresh_token_expires_at"
        case errors
    }

    public init(
        accessToken: Secret? = nil,
        tokenType: String? = nil,
        expiresAt: String? = nil,
        merchantId: String? = nil,
        subscriptionId: String? = nil,
        planId: String? = nil,
        idToken: Secret? = nil,
        refreshToken: Secret? = nil,
        shortLived: Bool? = nil,
        refreshTokenExpiresAt: String? = nil,
        errors: [SquareAPIError]? = nil
    ) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.merchantId = merchantId
        self.subscriptionId = subscriptionId
        self.planId = planId
        self.idToken = idToken
        self.refreshToken = refreshToken
        self.shortLived = shortLived
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.errors = errors
    }
}

/// Body of `POST /oauth2/revoke` (RevokeToken): name `accessToken` or `merchantId`, not both.
public struct RevokeTokenRequest: Codable, Sendable, Equatable {
    public var clientId: String
    public var accessToken: Secret?
    public var merchantId: String?
    public var revokeOnlyAccessToken: Bool?

    enum CodingKeys: String, CodingKey {
        case clientId = "client_id"
        case accessToken = "access_token"
        case merchantId = "merchant_id"
        case revokeOnlyAccessToken = "revoke_only_access_token"
    }

    public init(
        clientId: String,
        accessToken: Secret? = nil,
        merchantId: String? = nil,
        revokeOnlyAccessToken: Bool? = nil
    ) {
        self.clientId = clientId
        self.accessToken = accessToken
        self.merchantId = merchantId
        self.revokeOnlyAccessToken = revokeOnlyAccessToken
    }
}

/// Answer of RevokeToken.
public struct RevokeTokenResponse: Codable, Sendable, Equatable {
    public var success: Bool?
    public var errors: [SquareAPIError]?

    public init(success: Bool? = nil, errors: [SquareAPIError]? = nil) {
        self.success = success
        self.errors = errors
    }
}

/// Answer of `POST /oauth2/token/status` (RetrieveTokenStatus).
public struct RetrieveTokenStatusResponse: Codable, Sendable, Equatable {
    public var scopes: [String]?
    public var expiresAt: String?
    public var clientId: String?
    public var merchantId: String?
    public var errors: [SquareAPIError]?

    enum CodingKeys: String, CodingKey {
        case scopes
        case expiresAt = "expires_at"
        case clientId = "client_id"
        case merchantId = "merchant_id"
        case errors
    }

    public init(
        scopes: [String]? = nil,
        expiresAt: String? = nil,
        clientId: String? = nil,
        merchantId: String? = nil,
        errors: [SquareAPIError]? = nil
    ) {
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.clientId = clientId
        self.merchantId = merchantId
        self.errors = errors
    }
}

/// Body of the deprecated RenewToken (`POST /oauth2/clients/{client_id}/access-token/renew`).
public struct RenewTokenRequest: Codable, Sendable, Equatable {
    public var accessToken: Secret?

    enum CodingKeys: String, CodingKey { case accessToken = "access_token" }

    public init(accessToken: Secret? = nil) { self.accessToken = accessToken }
}

/// Answer of the deprecated RenewToken.
public struct RenewTokenResponse: Codable, Sendable, Equatable {
    public var accessToken: Secret?
    public var tokenType: String?
    public var expiresAt: String?
    public var merchantId: String?
    public var subscriptionId: String?
    public var planId: String?
    public var errors: [SquareAPIError]?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresAt = "expires_at"
        case merchantId = "merchant_id"
        case subscriptionId = "subscription_id"
        case planId = "plan_id"
        case errors
    }

    public init(
        accessToken: Secret? = nil,
        tokenType: String? = nil,
        expiresAt: String? = nil,
        merchantId: String? = nil,
        subscriptionId: String? = nil,
        planId: String? = nil,
        errors: [SquareAPIError]? = nil
    ) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.merchantId = merchantId
        self.subscriptionId = subscriptionId
        self.planId = planId
        self.errors = errors
    }
}

/// Square's error envelope, as the emulator writes it.
public struct SquareErrorEnvelope: Codable, Sendable, Equatable {
    public var errors: [SquareAPIError]

    public init(errors: [SquareAPIError]) { self.errors = errors }
}
