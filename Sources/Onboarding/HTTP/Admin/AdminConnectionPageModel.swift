import Foundation
import SquareOAuth

/// What an action on a connection ended in: the code in the redirect's query, and the words the page shows for it.
///
/// The page never echoes the query: an unknown code shows nothing.
enum AdminActionOutcome: String, Sendable, CaseIterable {
    case checkValid = "check-valid"
    case checkExpired = "check-expired"
    case checkRevoked = "check-revoked"
    case checkNeedsReauth = "check-needs-reauth"
    case checkNotCheckable = "check-not-checkable"
    case refreshed
    case refreshBusy = "refresh-busy"
    case refreshNeedsReauth = "refresh-needs-reauth"
    case refreshNotRefreshable = "refresh-not-refreshable"
    case refreshRevokedMeanwhile = "refresh-revoked-meanwhile"
    case disconnected
    case alreadyDisconnected = "already-disconnected"
    case disconnectNeedsClientSecret = "disconnect-needs-client-secret"
    case squareNotAnswering = "square-not-answering"
    case gone

    /// Whether the outcome is what the operator asked for.
    var isGood: Bool {
        switch self {
        case .checkValid, .refreshed, .disconnected, .alreadyDisconnected: true
        default: false
        }
    }

    /// The outcome in words, with the connection as it stands now.
    func message(_ connection: ConnectionRecord) -> String {
        let until = connection.expiresAt.map(ConnectionPageModel.format) ?? "an unknown time"
        return switch self {
        case .checkValid: "Square says the token is valid until \(until)."
        case .checkExpired: "Square says the access token has expired; the refresher renews it on its next pass."
        case .checkRevoked: "Square says the authorization was revoked; the connection is now disconnected."
        case .checkNeedsReauth: "Square no longer accepts the access token; the merchant must connect again."
        case .checkNotCheckable: "Only a connected merchant's token can be checked; Square was not asked."
        case .refreshed: "Refreshed; valid until \(until)."
        case .refreshBusy: "A refresh of this connection is already running; nothing else was done."
        case .refreshNeedsReauth: "Square refused the refresh token; the merchant must connect again."
        case .refreshNotRefreshable: "This connection has no tokens to refresh; nothing changed."
        case .refreshRevokedMeanwhile: "The connection was disconnected during the refresh; the new tokens were dropped."
        case .disconnected: "Disconnected."
        case .alreadyDisconnected: "Already disconnected; Square was not asked again."
        case .disconnectNeedsClientSecret: "Disconnecting at Square needs the client secret (square.clientSecret); nothing changed."
        case .squareNotAnswering: "Square is not answering; nothing changed."
        case .gone: "The connection is no longer there; nothing changed."
        }
    }
}

/// The admin's page of one connection, and the disconnect confirmation.
struct AdminConnectionPageModel: Sendable {
    struct Fact: Sendable {
        var id: String
        var label: String
        var value: String
    }

    struct Event: Sendable {
        var occurredAt: String
        var actor: String
        var action: String
        var detail: String
    }

    var platformName: String
    var merchantId: String
    var path: String
    var statusLabel: String
    var statusClass: String
    var facts: [Fact]
    var scopes: [ConnectPageModel.Permission]
    /// The scopes are those asked for: no status check has confirmed them yet.
    var scopesUnconfirmed: Bool
    var fingerprint: String?
    var history: [Event]
    var hasHistory: Bool
    var flash: String?
    var flashClass: String
    var canOperate: Bool
    var canDisconnect: Bool
    var csrfToken: String

    static func path(_ merchantId: String) -> String {
        "/admin/connections/" + (merchantId.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? "")
    }

    init(
        connection: ConnectionRecord,
        fingerprint: String?,
        history: [AuditEventRecord],
        outcome: AdminActionOutcome?,
        session: AdminSession,
        platformName: String
    ) {
        self.platformName = platformName
        merchantId = connection.merchantId
        path = Self.path(connection.merchantId)
        (statusLabel, statusClass) =
            switch connection.status {
            case .active: ("active", "ok")
            case .needsReauth: ("needs_reauth", "warn")
            case .revoked: ("revoked", "off")
            case .expired: ("expired", "warn")
            }
        let date: (Date?) -> String = { $0.map(ConnectionPageModel.format) ?? "—" }
        facts = [
            Fact(id: "environment", label: "Environment", value: connection.environment),
            Fact(id: "flow", label: "OAuth flow", value: connection.flow.rawValue),
            Fact(id: "token-type", label: "Token type", value: connection.tokenType),
            Fact(id: "short-lived", label: "Short-lived token", value: connection.shortLived ? "yes" : "no"),
            Fact(id: "partner", label: "Partner", value: connection.partnerId ?? "—"),
            Fact(id: "reference", label: "Partner reference", value: connection.partnerReference ?? "—"),
            Fact(id: "connected-at", label: "Connected", value: date(connection.connectedAt)),
            Fact(id: "expires-at", label: "Access token expires", value: date(connection.expiresAt)),
            Fact(id: "refresh-expires-at", label: "Refresh token expires", value: date(connection.refreshTokenExpiresAt)),
            Fact(id: "last-refreshed-at", label: "Last refreshed", value: date(connection.lastRefreshedAt)),
            Fact(id: "next-refresh-at", label: "Next refresh try", value: date(connection.nextRefreshAt)),
            Fact(id: "last-checked-at", label: "Last checked with Square", value: date(connection.lastCheckedAt)),
            Fact(id: "revoked-at", label: "Revoked", value: date(connection.revokedAt)),
            Fact(id: "revoked-by", label: "Revoked by", value: connection.revokedBy ?? "—"),
            Fact(id: "refresh-failures", label: "Refresh failures in a row", value: String(connection.refreshFailureCount)),
            Fact(id: "last-error", label: "Last error", value: connection.lastError ?? "—"),
        ]
        scopes = connection.scopes.split(separator: " ").map {
            .init(name: String($0), description: SquareScope.describeForOperator(String($0)))
        }
        scopesUnconfirmed = connection.scopesUnconfirmed
        self.fingerprint = fingerprint
        self.history = history.map {
            Event(occurredAt: ConnectionPageModel.format($0.occurredAt), actor: $0.actor.description, action: $0.action.rawValue, detail: $0.detail)
        }
        hasHistory = !history.isEmpty
        flash = outcome?.message(connection)
        flashClass = outcome?.isGood == true ? "ok" : "warn"
        canOperate = session.admin.role >= .operator
        canDisconnect = connection.status != .revoked
        csrfToken = session.session.csrfToken
    }
}
