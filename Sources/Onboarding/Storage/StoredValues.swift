import Foundation

/// Where a connection stands; stored as text, checked by the schema.
enum ConnectionStatus: String, Codable, Sendable, CaseIterable {
    case active
    case needsReauth = "needs_reauth"
    case revoked
    case expired

    /// The statuses whose tokens the refresher may renew.
    static let refreshable: [ConnectionStatus] = [.active, .expired]
}

/// Which OAuth flow an authorization used: PKCE alone, or the code flow with the client secret.
public enum OAuthFlow: String, Codable, Sendable, CaseIterable {
    /// PKCE only: no client secret in the exchange; refresh tokens are single-use and expire after 90 days.
    case pkce
    /// Authorization code with the client secret (and PKCE too): refresh tokens do not expire.
    case code
}

/// How an authorization attempt ended; nil while it is open.
enum AuthorizationOutcome: String, Codable, Sendable, CaseIterable {
    case consumed
    case connected
    case denied
    case squareError = "square_error"
    case missingCode = "missing_code"
    case exchangeFailed = "exchange_failed"
    /// Square connected a merchant that another partner's connection holds: nothing was stored.
    case heldByAnotherPartner = "held_by_another_partner"
    /// The partner cancelled the link while the merchant was at Square: the code was not exchanged.
    case linkCancelled = "link_cancelled"
}

/// What an audit event records; stored as text, checked by the schema.
enum AuditAction: String, Codable, Sendable, CaseIterable {
    case authorizationStarted = "authorization.started"
    case authorizationRejected = "authorization.rejected"
    case authorizationDenied = "authorization.denied"
    case authorizationFailed = "authorization.failed"
    /// Square's answer was not kept: the merchant's connection belongs to another partner than the link's.
    case authorizationRefused = "authorization.refused"
    case connectionConnected = "connection.connected"
    case connectionRevoked = "connection.revoked"
    /// A second word on a revocation already recorded (Square's webhook after our own revoke, or the reverse).
    case revocationConfirmed = "connection.revocation_confirmed"
    case disconnectFailed = "connection.disconnect_failed"
    case tokenRefreshed = "token.refreshed"
    case tokenRefreshFailed = "token.refresh_failed"
    case tokenNeedsReauth = "token.needs_reauth"
    case tokenExpired = "token.expired"
    /// An admin asked Square about a token and Square answered that it works, or did not answer.
    case tokenStatusChecked = "token.status_checked"
    case keysRotated = "keys.rotated"
    case environmentRekeyed = "environment.rekeyed"
    case adminAdded = "admin.added"
    case adminRemoved = "admin.removed"
    case adminRoleChanged = "admin.role_changed"
    case adminPasswordChanged = "admin.password_changed"
    case adminSignedIn = "admin.signed_in"
    case adminSignInFailed = "admin.sign_in_failed"
    /// An admin's name, or a client address, reached its limit of failed sign-ins: refused until the window passes.
    case adminLockedOut = "admin.locked_out"
    /// An operator ended a name's lockout early (`square-onboard admin unlock`).
    case adminUnlocked = "admin.unlocked"
    /// An admin downloaded a CSV export (what, with which filter, how many rows).
    case adminExported = "admin.exported"
    case adminSignedOut = "admin.signed_out"
    case adminTOTPEnabled = "admin.totp_enabled"
    case adminTOTPReset = "admin.totp_reset"
    case adminRecoveryCodeUsed = "admin.recovery_code_used"
    /// An admin turned their own second factor off (after entering their password again).
    case adminTOTPDisabled = "admin.totp_disabled"
    /// An admin replaced their recovery codes with ten new ones (after entering their password again).
    case adminRecoveryCodesRenewed = "admin.recovery_codes_renewed"
    case partnerAdded = "partner.added"
    case partnerUpdated = "partner.updated"
    case partnerRemoved = "partner.removed"
    case partnerKeyCreated = "partner.key_created"
    case partnerKeyRevoked = "partner.key_revoked"
    case partnerWebhookSecretRotated = "partner.webhook_secret_rotated"
    case linkCreated = "link.created"
    case linkCancelled = "link.cancelled"
    /// A partner read a connection's access token through the API (the token itself is never recorded).
    case tokenIssued = "token.issued"
    case webhookDeliveryFailed = "webhook.delivery_failed"
    case webhookEndpointFailing = "webhook.endpoint_failing"
    case webhookResent = "webhook.resent"
    /// A partner asked for a signed test event to its webhook endpoint.
    case webhookTested = "webhook.tested"
}

/// What an admin may do; each role grants the ones below it. Stored as text, checked by the schema.
package enum AdminRole: String, Codable, Sendable, CaseIterable, Comparable {
    /// Reads every page.
    case viewer
    /// Also acts on connections (refresh, check, revoke).
    case `operator`
    /// Also manages admins.
    case owner

    /// This role and every role below it, as the role policy checks them.
    var granted: Set<AdminRole> { Set(Self.allCases.filter { $0 <= self }) }

    package static func < (left: AdminRole, right: AdminRole) -> Bool {
        allCases.firstIndex(of: left)! < allCases.firstIndex(of: right)!
    }
}

/// Who did something: stored as `merchant`, `system`, `square`, `cli`, `admin:NAME` or `partner:ID`.
enum AuditActor: Codable, Sendable, Hashable, CustomStringConvertible {
    case merchant
    case system
    case square
    case cli
    case admin(String)
    case partner(String)

    var description: String {
        switch self {
        case .merchant: "merchant"
        case .system: "system"
        case .square: "square"
        case .cli: "cli"
        case .admin(let name): "admin:\(name)"
        case .partner(let id): "partner:\(id)"
        }
    }

    init?(_ text: String) {
        switch text {
        case "merchant": self = .merchant
        case "system": self = .system
        case "square": self = .square
        case "cli": self = .cli
        default:
            if text.hasPrefix("admin:"), text.count > 6 {
                self = .admin(String(text.dropFirst(6)))
            } else if text.hasPrefix("partner:"), text.count > 8 {
                self = .partner(String(text.dropFirst(8)))
            } else {
                return nil
            }
        }
    }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let actor = AuditActor(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown actor '\(text)'"))
        }
        self = actor
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The SQL condition the schema checks actor columns with.
    static let sqlCheck = "IN ('merchant', 'system', 'square', 'cli') OR actor GLOB 'admin:?*' OR actor GLOB 'partner:?*'"
}
