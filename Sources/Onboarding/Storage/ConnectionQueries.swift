import Foundation
import OnboardCrypto

/// A filtered, sorted page of connections for the dashboard, read with a keyset cursor (no OFFSET, no full count).
struct ConnectionQuery: Sendable, Equatable {
    /// The orders a list can be read in; each has an index that serves it.
    enum Sort: String, Sendable, CaseIterable {
        /// Most recently connected first.
        case recent
        /// Soonest access-token expiry first; connections without a token last.
        case expiry
        /// By merchant id.
        case merchant
    }

    var environment: String
    /// A prefix of the merchant id or of the partner's reference, matched literally (no wildcards).
    var search: String?
    var status: ConnectionStatus?
    /// Only this partner's connections (the partner API), and only those with exactly this reference.
    var partnerId: String? = nil
    var reference: String? = nil
    var sort: Sort = .recent
    var limit: Int = 50
    /// Where the previous page ended.
    var after: ConnectionCursor?
    /// Whether the page also says how many connections match in all (the dashboard's "1–50 of 100,006").
    var countsMatches = false
}

/// How many connections a query matches in all: exact, or (for a search matching thousands) a lower bound.
struct ConnectionTotal: Sendable, Equatable {
    var count: Int
    var isLowerBound: Bool
}

/// The position after the last row of a page: that row's sort key and id.
struct ConnectionCursor: Sendable, Equatable, Hashable {
    var key: String
    var id: Int64

    /// The cursor as one query-string-safe token.
    var token: String { "\(id)." + Base64URL.encode(Array(key.utf8)) }

    init(key: String, id: Int64) {
        self.key = key
        self.id = id
    }

    /// Parses `token`; nil for anything this service did not write.
    init?(token: String) {
        let parts = token.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, token.utf8.count <= 200, let id = Int64(parts[0]), let bytes = Base64URL.decode(parts[1]),
            let key = String(validating: bytes, as: UTF8.self)
        else { return nil }
        self.init(key: key, id: id)
    }
}

/// One page of connections, and the cursor of the next page when there is one.
struct ConnectionPage: Sendable, Equatable {
    var connections: [ConnectionRecord]
    var next: ConnectionCursor?
    /// Set when the query `countsMatches`.
    var total: ConnectionTotal? = nil
}

/// The numbers the dashboard's overview opens with.
struct ConnectionOverview: Sendable, Equatable {
    var countsByStatus: [ConnectionStatus: Int]
    /// Active connections whose access token expires within the window asked for.
    var expiringSoon: Int
    /// `token.refresh_failed` audit events since the time asked for.
    var refreshFailures: Int
}

/// A page of the audit log, newest first, filtered by merchant, actor, action and time.
struct AuditQuery: Sendable, Equatable {
    var merchantId: String?
    var actor: AuditActor?
    var action: AuditAction?
    /// Events at or after this time.
    var from: Date?
    /// Events before this time.
    var until: Date?
    var limit: Int = 50
    /// The id of the last event of the previous page.
    var beforeId: Int64?
}
