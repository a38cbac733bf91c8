import Foundation
import SquareOAuth

/// The one application registered with the emulated Square.
public struct EmulatedApplication: Sendable, Equatable {
    public var name: String
    public var clientId: String
    public var clientSecret: String
    /// The registered redirect URL: consent results go here, and `redirect_uri`, when sent, must equal it.
    public var redirectURL: String

    public init(name: String = "square-onboard", clientId: String, clientSecret: String, redirectURL: String) {
        self.name = name
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.redirectURL = redirectURL
    }
}

/// A sandbox seller who can approve on the consent page.
public struct EmulatedMerchant: Sendable, Equatable, Codable {
    public var id: String
    public var businessName: String

    enum CodingKeys: String, CodingKey {
        case id
        case businessName = "business_name"
    }

    public init(id: String, businessName: String) {
        self.id = id
        self.businessName = businessName
    }

    /// Three sellers every fresh emulator starts with.
    public static let seeds = [
        EmulatedMerchant(id: "MLSANDBOXCAFE", businessName: "Sandbox Café"),
        EmulatedMerchant(id: "MLSANDBOXBIKE", businessName: "Sandbox Bike Shop"),
        EmulatedMerchant(id: "MLSANDBOXBOOK", businessName: "Sandbox Books"),
    ]
}

/// Lifetimes the emulator enforces, from Square's documentation.
public struct EmulatorLifetimes: Sendable {
    public var authorizationCode: TimeInterval = 5 * 60
    public var accessToken: TimeInterval = 30 * 24 * 3600
    public var shortLivedAccessToken: TimeInterval = 24 * 3600
    public var pkceRefreshToken: TimeInterval = 90 * 24 * 3600
    public var renewWindowAfterExpiry: TimeInterval = 15 * 24 * 3600
    public var consentPage: TimeInterval = 30 * 60

    public init() {}
}

/// Which OAuth flow a grant came from; it decides the refresh rules.
enum GrantFlow: String, Sendable {
    /// Client secret: the refresh token never expires and is returned unchanged on refresh.
    case code
    /// PKCE: each refresh token is single-use, expires after 90 days, and refresh returns a new one.
    case pkce
}

/// A merchant's authorization of the application.
struct Grant: Sendable {
    var merchantId: String
    var scopes: [String]
    var flow: GrantFlow
    var grantedAt: Date
    var revokedAt: Date?
}

/// A consent page that was shown and awaits Allow or Deny.
struct PendingConsent: Sendable {
    var scopes: [String]
    var state: String?
    var codeChallenge: String?
    var createdAt: Date
}

/// An authorization code handed to the redirect URL.
struct IssuedCode: Sendable {
    var merchantId: String
    var scopes: [String]
    var codeChallenge: String?
    var issuedAt: Date
    var redeemedAt: Date?
}

/// An access token the emulator issued.
struct AccessTokenRecord: Sendable {
    var merchantId: String
    var scopes: [String]
    var expiresAt: Date
    var revokedAt: Date?
}

/// A refresh token the emulator issued.
struct RefreshTokenRecord: Sendable {
    var merchantId: String
    var flow: GrantFlow
    var expiresAt: Date?
    var usedAt: Date?
    var revokedAt: Date?
}

/// A legacy token that ObtainToken's `migration_token` grant can exchange.
struct MigrationTokenRecord: Sendable {
    var merchantId: String
    var scopes: [String]
    var usedAt: Date?
}

/// What an emulated endpoint answers, before it becomes an HTTP response.
enum EmulatorAnswer: Sendable {
    case success(any Encodable & Sendable)
    case envelope(status: Int, [SquareAPIError])
    case legacy(status: Int, SquareLegacyError)

    static func invalid(_ code: String, field: String?, _ detail: String) -> EmulatorAnswer {
        .envelope(status: 400, [SquareAPIError(category: "INVALID_REQUEST_ERROR", code: code, detail: detail, field: field)])
    }

    static func unauthorized(_ detail: String, code: String = "UNAUTHORIZED") -> EmulatorAnswer {
        .envelope(status: 401, [SquareAPIError(category: "AUTHENTICATION_ERROR", code: code, detail: detail)])
    }

    static let notAuthorized = EmulatorAnswer.legacy(
        status: 401,
        SquareLegacyError(message: "Not Authorized", type: "service.not_authorized")
    )
    static let badAuthorizationHeader = EmulatorAnswer.legacy(
        status: 400,
        SquareLegacyError(message: "bad authorization header", type: "bad_request.invalid_parameter")
    )
    static let invalidRefreshToken = EmulatorAnswer.legacy(
        status: 401,
        SquareLegacyError(message: "Invalid refresh token", type: "service.not_authorized")
    )
}

/// Random identifiers shaped like Square's.
enum SquareIdentifiers {
    static let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    static let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
}

extension Date {
    /// RFC 3339 in UTC with whole seconds, as Square writes timestamps.
    var rfc3339: String { formatted(.iso8601) }
}
