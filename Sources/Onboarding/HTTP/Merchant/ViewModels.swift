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
    /// A partner's link id, posted back with the form; nil on the plain connect page.
    var linkId: String?
    /// Who asks, when a partner's link brought the merchant.
    var partnerName: String?

    init(configuration: AppConfiguration, csrfToken: String, link: OnboardingLinkRecord? = nil, partnerName: String? = nil) {
        platformName = configuration.platformName
        let scopes = link.map { $0.scopes.split(separator: " ").map(String.init) } ?? configuration.scopes
        permissions = scopes.map { Permission(name: $0, description: SquareScope.describe($0)) }
        linkId = link?.id
        self.partnerName = partnerName
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
        case "linkId": linkId.map { $0 as Any }
        case "partnerName": partnerName.map { $0 as Any }
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
    /// Whether "Try again" on our connect page could help (a dead partner link needs the partner, not our page).
    var offersRetry = true
}

/// The page that ends a popup-mode flow: its script posts the signed result to the opener and closes the window.
struct PopupResultPageModel: Sendable {
    /// The result as JSON, for the script (in a data attribute, HTML-escaped by the template).
    var resultJSON: String
    /// The partner's allowed popup origins as JSON; the script posts to each, so only the opener's own receives it.
    var originsJSON: String
    /// Where to go when there is no opener (the popup was blocked and the flow ran in the page itself).
    var returnURL: String
    var connected: Bool

    init(_ partnerReturn: PartnerReturn) {
        var result: [String: String] = ["type": "square-onboard.result"]
        for field in partnerReturn.fields { result[field.name] = field.value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        resultJSON = (try? encoder.encode(result)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        originsJSON = (try? encoder.encode(partnerReturn.popupOrigins)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        returnURL = partnerReturn.url.absoluteString
        connected = partnerReturn.fields.contains { $0.name == "status" && $0.value == "connected" }
    }
}
