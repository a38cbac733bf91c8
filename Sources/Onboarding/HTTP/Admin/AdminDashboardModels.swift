import Foundation
import Hummingbird

/// A connection status as the dashboard shows it: words and a colour class, never the colour alone.
struct StatusBadgeModel: Sendable {
    var label: String
    var tone: String

    init(_ status: ConnectionStatus) {
        (label, tone) =
            switch status {
            case .active: ("active", "ok")
            case .needsReauth: ("needs re-auth", "warn")
            case .revoked: ("revoked", "off")
            case .expired: ("expired", "bad")
            }
    }
}

/// A moment shown as "in 23 days" / "3 days ago", with the exact time for a tooltip and `<time datetime>`.
struct MomentModel: Sendable {
    var relative: String
    var exact: String
    var iso: String

    init(_ date: Date, now: Date) {
        relative = Self.relative(date, now: now)
        exact = ConnectionPageModel.format(date)
        iso = date.formatted(.iso8601)
    }

    static func relative(_ date: Date, now: Date) -> String {
        let seconds = date.timeIntervalSince(now)
        let magnitude = abs(seconds)
        guard magnitude >= 60 else { return seconds >= 0 ? "in under a minute" : "just now" }
        let (count, unit): (Int, String) =
            switch magnitude {
            case ..<3600: (Int(magnitude / 60), "minute")
            case ..<86_400: (Int(magnitude / 3600), "hour")
            default: (Int(magnitude / 86_400), "day")
            }
        let text = "\(count) \(unit)\(count == 1 ? "" : "s")"
        return seconds > 0 ? "in \(text)" : "\(text) ago"
    }
}

/// One choice of a `<select>`.
struct OptionModel: Sendable {
    var value: String
    var label: String
    var selected: Bool
}

/// One row of the connections table.
struct ConnectionRowModel: Sendable {
    var merchantId: String
    var detailPath: String
    var partnerReference: String?
    var badge: StatusBadgeModel
    var scopes: [String]
    var expires: MomentModel?
    var lastRefreshed: MomentModel?
    var lastChecked: MomentModel?
    var lastError: String?

    init(_ connection: ConnectionRecord, now: Date) {
        merchantId = connection.merchantId
        detailPath = AdminPaths.connection(connection.merchantId)
        partnerReference = connection.partnerReference
        badge = StatusBadgeModel(connection.status)
        scopes = connection.scopes.split(separator: " ").map(String.init)
        expires = connection.expiresAt.map { MomentModel($0, now: now) }
        lastRefreshed = connection.lastRefreshedAt.map { MomentModel($0, now: now) }
        lastChecked = connection.lastCheckedAt.map { MomentModel($0, now: now) }
        lastError = connection.lastError
    }
}

/// One line of the audit log.
struct AuditRowModel: Sendable {
    var id: Int64
    var at: MomentModel
    var actor: String
    var action: String
    var merchantId: String?
    var merchantPath: String?
    var detail: String

    init(_ event: AuditEventRecord, now: Date) {
        id = event.id ?? 0
        at = MomentModel(event.occurredAt, now: now)
        actor = event.actor.description
        action = event.action.rawValue
        merchantId = event.merchantId
        merchantPath = event.merchantId.map(AdminPaths.connection)
        detail = event.detail
    }
}

/// One status on the overview: its count and the filtered list it links to.
struct StatusCountModel: Sendable {
    var status: String
    var badge: StatusBadgeModel
    /// With thousands separators: `100,006`.
    var count: String
    var path: String
}

/// Numbers as an operator reads them: thousands separated by commas, the same in every locale (as the page's English).
enum AdminNumber {
    static func grouped(_ number: Int) -> String {
        let digits = String(number.magnitude)
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return (number < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}

/// The dashboard's overview (`GET /admin`): the signed-in line, the numbers, what needs attention, recent events.
struct AdminOverviewPageModel: Sendable {
    var platformName: String
    var adminName: String
    var role: String
    var canOperate: Bool
    var canManageAdmins: Bool
    var sessionEndsAt: String
    var csrfToken: String
    var counts: [StatusCountModel]
    var expiringSoon: String
    var refreshFailures: String
    var needsReauth: [ConnectionRowModel]
    var moreNeedReauth: Bool
    var recentEvents: [AuditRowModel]
}

/// The connections list: the filters as typed, the rows, and the next page's link.
struct AdminConnectionsPageModel: Sendable {
    var platformName: String
    var search: String?
    var statuses: [OptionModel]
    var sorts: [OptionModel]
    var rows: [ConnectionRowModel]
    /// "1–50 of 100,006"; nil when nothing matches.
    var shown: String?
    var nextPath: String?
    var csvPath: String
    var isFirstPage: Bool
    var firstPath: String
}

/// The audit log: the filters as typed, the events, and the link to older ones.
struct AdminAuditPageModel: Sendable {
    var platformName: String
    var merchant: String
    /// The days as typed (YYYY-MM-DD).
    var from: String
    var to: String
    var actors: [OptionModel]
    var actions: [OptionModel]
    var rows: [AuditRowModel]
    var olderPath: String?
    var isFirstPage: Bool
    var firstPath: String
    var csvPath: String
}

/// Admin addresses built in one place, with their query strings encoded.
enum AdminPaths {
    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// The connection detail page of `merchantId`.
    static func connection(_ merchantId: String) -> String {
        "/admin/connections/" + encode(merchantId)
    }

    /// `path` with the non-empty `parameters` as its query, in order.
    static func path(_ path: String, _ parameters: [(String, String?)]) -> String {
        let query = parameters.compactMap { key, value in value.flatMap { $0.isEmpty ? nil : key + "=" + encode($0) } }
        return query.isEmpty ? path : path + "?" + query.joined(separator: "&")
    }

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}

/// The query string of a dashboard GET form, as browsers encode it: `+` is a space, `%2B` a plus; the first value of a
/// name counts.
enum AdminFormQuery {
    static func parameters(_ query: String?) throws(AdminQueryError) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decoded = parts.map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decoded[0], let value = decoded.count > 1 ? decoded[1] : "" else {
                throw AdminQueryError(message: "That address is not valid.")
            }
            if parameters[name] == nil { parameters[name] = value }
        }
        return parameters
    }
}

/// A dashboard query the service cannot read (an unknown status, a cursor it did not write, …): the 400 page.
struct AdminQueryError: Error, Equatable {
    var message: String
}

extension PageRenderer {
    /// The admin 400 page for a query value the dashboard cannot read.
    func adminBadQuery(_ error: AdminQueryError) -> Response {
        adminErrorPage(status: .badRequest, title: "That filter is not valid", message: error.message)
    }

    /// The admin realm's error page with this status, title and message.
    func adminErrorPage(status: HTTPResponse.Status, title: String, message: String) -> Response {
        page("admin/error", AdminErrorPageModel(platformName: platformName, status: Int(status.code), title: title, message: message), status: status)
    }
}

extension AdminError {
    /// Runs a store read; a storage failure becomes the dashboard's 503 page.
    static func reading<T>(_ body: () async throws(StorageError) -> T) async throws(AdminError) -> T {
        do { return try await body() } catch { throw AdminError.storageUnavailable }
    }
}
