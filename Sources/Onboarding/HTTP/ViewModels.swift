import Foundation
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

/// The result page: the merchant's connection as it stands, and a Disconnect button while it is active.
struct ConnectionPageModel: Sendable {
    var platformName: String
    var merchantId: String
    var statusLabel: String
    var statusClass: String
    var isActive: Bool
    var permissions: [ConnectPageModel.Permission]
    var expiresAt: String?
    var connectedAt: String
    var revokedAt: String?
    var csrfToken: String
    var justConnected: Bool

    init(connection: ConnectionRecord, csrfToken: String, platformName: String, justConnected: Bool) {
        self.platformName = platformName
        merchantId = connection.merchantId
        isActive = connection.status == ConnectionStatus.active.rawValue
        (statusLabel, statusClass) =
            switch ConnectionStatus(rawValue: connection.status) {
            case .active: ("Connected", "ok")
            case .needsReauth: ("Needs to be connected again", "warn")
            case .revoked: ("Disconnected", "off")
            case .expired: ("Expired", "warn")
            case nil: (connection.status, "warn")
            }
        permissions = connection.scopes.split(separator: " ").map {
            .init(name: String($0), description: SquareScope.describe(String($0)))
        }
        expiresAt = isActive ? connection.expiresAt.map(Self.format) : nil
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
}
