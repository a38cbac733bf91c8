import Foundation
import SquareOAuth

/// An authorization made outside the emulator (a seeding tool) whose tokens the emulator is to accept from now on.
public struct ImportedAuthorization: Sendable, Codable, Equatable {
    public var merchantId: String
    public var accessToken: String
    public var refreshToken: String
    /// When the access token expires, RFC 3339.
    public var expiresAt: String
    /// When the refresh token expires (PKCE), RFC 3339; nil for a code-flow token that never expires.
    public var refreshTokenExpiresAt: String?
    public var scopes: [String]
    /// `pkce` (single-use refresh tokens, no client secret) or `code`.
    public var flow: String

    enum CodingKeys: String, CodingKey {
        case merchantId = "merchant_id"
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case expiresAt = "expires_at"
        case refreshTokenExpiresAt = "refresh_token_expires_at"
        case scopes, flow
    }

    public init(
        merchantId: String,
        accessToken: String,
        refreshToken: String,
        expiresAt: String,
        refreshTokenExpiresAt: String? = nil,
        scopes: [String],
        flow: String
    ) {
        self.merchantId = merchantId
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.scopes = scopes
        self.flow = flow
    }
}

/// The body of `POST /_emulator/merchants`.
struct ImportRequest: Decodable {
    var merchants: [ImportedAuthorization]
}

/// The answer of `POST /_emulator/merchants`.
struct ImportResponse: Encodable {
    var imported: Int
}

extension EmulatorStore {
    /// Registers each authorization with its tokens (a merchant's grant is replaced, tokens issued before stay valid);
    /// nil when all were registered, else the problem with the first bad entry, and then nothing is registered.
    mutating func importAuthorizations(_ authorizations: [ImportedAuthorization], now: Date) -> EmulatorAnswer? {
        var parsed: [(ImportedAuthorization, GrantFlow, Date, Date?)] = []
        parsed.reserveCapacity(authorizations.count)
        for (index, entry) in authorizations.enumerated() {
            let field = "merchants[\(index)]"
            guard !entry.merchantId.isEmpty, entry.merchantId.utf8.count <= 191 else {
                return .invalid("INVALID_VALUE", field: field + ".merchant_id", "merchant_id must be 1 to 191 characters")
            }
            guard (2...1024).contains(entry.accessToken.utf8.count), (2...1024).contains(entry.refreshToken.utf8.count) else {
                return .invalid("INVALID_VALUE", field: field, "access_token and refresh_token must be 2 to 1024 characters")
            }
            guard let flow = GrantFlow(rawValue: entry.flow) else {
                return .invalid("INVALID_VALUE", field: field + ".flow", "flow must be pkce or code")
            }
            guard let expiresAt = try? Date(entry.expiresAt, strategy: .iso8601) else {
                return .invalid("INVALID_VALUE", field: field + ".expires_at", "expires_at must be an RFC 3339 time")
            }
            var refreshExpiresAt: Date?
            if let text = entry.refreshTokenExpiresAt {
                guard let date = try? Date(text, strategy: .iso8601) else {
                    return .invalid("INVALID_VALUE", field: field + ".refresh_token_expires_at", "refresh_token_expires_at must be an RFC 3339 time")
                }
                refreshExpiresAt = date
            }
            parsed.append((entry, flow, expiresAt, refreshExpiresAt))
        }
        for (entry, flow, expiresAt, refreshExpiresAt) in parsed {
            grants[entry.merchantId] = Grant(merchantId: entry.merchantId, scopes: entry.scopes, flow: flow, grantedAt: now)
            accessTokens[entry.accessToken] = AccessTokenRecord(merchantId: entry.merchantId, scopes: entry.scopes, expiresAt: expiresAt)
            refreshTokens[entry.refreshToken] = RefreshTokenRecord(merchantId: entry.merchantId, flow: flow, expiresAt: refreshExpiresAt)
        }
        return nil
    }
}

extension SquareEmulator {
    /// Registers authorizations made elsewhere, as `POST /_emulator/merchants` does; false (nothing registered) when
    /// an entry is malformed.
    @discardableResult
    public func importAuthorizations(_ authorizations: [ImportedAuthorization]) -> Bool {
        withStore { store, now in store.importAuthorizations(authorizations, now: now) } == nil
    }
}
