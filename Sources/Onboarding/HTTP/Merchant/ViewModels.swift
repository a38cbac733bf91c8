import Foundation
import Mustache
import SquareOAuth

/// The connect page: who asks for what, in plain words.
struct ConnectPageModel: Sendable {
    struct Permission: Sendable {
        var name: String
        var description: String
    }

    var platformName: String
    var permissions: [Permission]
    var csrfToken: String
    var environmentLabel: String
    var isSandbox: Bool

    init(configuration: AppConfiguration, csrfToken: String) {
        platformName = configuration.platformName
        permissions = configuration.scopes.map { Permission(name: $0, description: SquareScope.describe($0)) }
        self.csrfToken = csrfToken
        switch configuration.squareEnvironment {
        case .production:
            environmentLabel = "Square"
            isSandbox = false
        case .sandbox:
            environmentLabel = "Square Sandbox"
            isSandbox = true
        case .custom:
            environmentLabel = "Square Sandbox Emulator"
            isSandbox = true
        }
    }
}

// The connect page is the busiest page: Mustache finds these values by name here instead of through `Mirror`, which
// took about half of the page's CPU time (Benchmarks/run, perf). A template name missing here renders as empty, as an
// unknown name does with `Mirror`; MerchantFlowTests checks every value on the page.
extension ConnectPageModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "platformName": platformName
        case "permissions": permissions
        case "csrfToken": csrfToken
        case "environmentLabel": environmentLabel
        case "isSandbox": isSandbox
        default: nil
        }
    }
}

extension ConnectPageModel.Permission: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "description": description
        default: nil
        }
    }
}

/// The result page: the merchant's connection as it stands, and a Disconnect button while it holds a token.
struct ConnectionPageModel: Sendable {
    var platformName: String
    var merchantId: String
    var statusLabel: String
    var statusClass: String
    var isActive: Bool
    /// Active, needs re-authorization or expired: there is still something to disconnect.
    var canDisconnect: Bool
    var permissions: [ConnectPageModel.Permission]
    /// The permissions are those asked for until Square's token status confirms them, moments after connecting.
    var permissionsUnconfirmed: Bool
    /// When the current access token stops working.
    var expiresAt: String?
    /// When the refresher renews the access token at the latest.
    var renewsBy: String?
    var connectedAt: String
    var revokedAt: String?
    var csrfToken: String
    var justConnected: Bool

    init(connection: ConnectionRecord, csrfToken: String, platformName: String, tokenLife: TokenLifeSettings, justConnected: Bool) {
        self.platformName = platformName
        merchantId = connection.merchantId
        isActive = connection.status == .active
        canDisconnect = connection.holdsToken
        (statusLabel, statusClass) =
            switch connection.status {
            case .active: ("Connected", "ok")
            case .needsReauth: ("Needs to be connected again", "warn")
            case .revoked: ("Disconnected", "off")
            case .expired: ("Expired", "warn")
            }
        permissions = connection.scopes.split(separator: " ").map {
            .init(name: String($0), description: SquareScope.describe(String($0)))
        }
        permissionsUnconfirmed = connection.scopesUnconfirmed
        expiresAt = isActive ? connection.expiresAt.map(Self.format) : nil
        renewsBy = isActive ? Self.format(tokenLife.nextRenewal(of: connection)) : nil
        connectedAt = Self.format(connection.connectedAt)
        revokedAt = connection.revokedAt.map(Self.format)
        self.csrfToken = csrfToken
        self.justConnected = justConnected
    }

    static func format(_ date: Date) -> String {
        date.formatted(.dateTime.year().month(.abbreviated).day().hour().minute().timeZone())
    }
}

/// An error page.
struct ErrorPageModel: Sendable {
    var platformName: String
    var status: Int
    var title: String
    var message: String
    /// The request id, shown on internal errors so an operator can find the log line.
    var reference: String? = nil
}
