import Foundation
import Hummingbird

/// The connections list and its CSV export, filtered by search, status and sort, paged by a keyset cursor.
struct AdminConnectionsController {
    let pages: PageRenderer
    let store: any DashboardStore & AuditLog
    let environment: String
    let clock: AppClock

    static let pageSize = 50
    static let exportBatchSize = 500
    static let maxSearchLength = 64

    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/connections", use: list)
        routes.get("/admin/connections.csv", use: export)
        return routes
    }

    /// GET /admin/connections — one page of the table, with the filters as typed and a link to the next page.
    @Sendable func list(request: Request, context: AdminRequestContext) async throws -> Response {
        var query: ConnectionQuery
        let parameters: [String: String]
        do {
            parameters = try AdminFormQuery.parameters(request.uri.query)
            query = try Self.query(parameters, environment: environment, limit: Self.pageSize)
        } catch {
            return pages.adminBadQuery(error)
        }
        query.countsMatches = true
        let (store, asked) = (self.store, query)
        let page = try await AdminError.reading { () async throws(StorageError) in try await store.connections(matching: asked) }
        // Where this page starts in the whole list: carried by the next-page link, only for showing "51–100 of …".
        let first = query.after == nil ? 1 : max(1, Int(parameters["from"] ?? "") ?? 1)
        let now = clock.now()
        let filters: [(String, String?)] = [("q", query.search), ("status", query.status?.rawValue), ("sort", query.sort.rawValue)]
        let model = AdminConnectionsPageModel(
            platformName: pages.platformName,
            search: query.search,
            statuses: [OptionModel(value: "", label: "Any status", selected: query.status == nil)]
                + ConnectionStatus.allCases.map {
                    OptionModel(value: $0.rawValue, label: StatusBadgeModel($0).label, selected: query.status == $0)
                },
            sorts: [
                OptionModel(value: "recent", label: "Most recently connected", selected: query.sort == .recent),
                OptionModel(value: "expiry", label: "Token expiry, soonest first", selected: query.sort == .expiry),
                OptionModel(value: "merchant", label: "Merchant id", selected: query.sort == .merchant),
            ],
            rows: page.connections.map { ConnectionRowModel($0, now: now) },
            shown: AdminListRange.text(first: first, count: page.connections.count, total: page.total),
            nextPath: page.next.map {
                AdminPaths.path("/admin/connections", filters + [("after", $0.token), ("from", String(first + page.connections.count))])
            },
            csvPath: AdminPaths.path("/admin/connections.csv", filters),
            isFirstPage: query.after == nil,
            firstPath: AdminPaths.path("/admin/connections", filters)
        )
        return pages.adminPage("admin/connections", model, session: context.admin, section: .connections)
    }

    /// GET /admin/connections.csv — every matching connection, read from the store in batches.
    @Sendable func export(request: Request, context: AdminRequestContext) async throws -> Response {
        var query: ConnectionQuery
        do { query = try Self.query(AdminFormQuery.parameters(request.uri.query), environment: environment, limit: Self.exportBatchSize) } catch {
            return pages.adminBadQuery(error)
        }
        let store = self.store
        var csv = CSV.row(Self.csvHeader)
        var rows = 0
        while true {
            let batch = query
            let page = try await AdminError.reading { () async throws(StorageError) in try await store.connections(matching: batch) }
            for connection in page.connections { csv += CSV.row(Self.csvCells(connection)) }
            rows += page.connections.count
            guard let next = page.next else { break }
            query.after = next
        }
        // An export takes data out of the dashboard: who took what, and how much, is on the record.
        let filter = "q=\(query.search ?? "") status=\(query.status?.rawValue ?? "any") sort=\(query.sort.rawValue)"
        let audit = AuditEventRecord(
            occurredAt: clock.now(),
            actor: .admin(context.admin.admin.name),
            action: .adminExported,
            detail: "export=connections \(filter) rows=\(rows)"
        )
        try await AdminError.reading { () async throws(StorageError) in try await store.appendAudit(audit) }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: #"attachment; filename="connections.csv""#],
            body: ResponseBody(byteBuffer: ByteBuffer(string: csv))
        )
    }

    static let csvHeader = [
        "merchant_id", "partner_reference", "status", "scopes", "expires_at", "last_refreshed_at", "last_checked_at", "connected_at",
    ]

    static func csvCells(_ connection: ConnectionRecord) -> [String] {
        let iso = { (date: Date?) in date?.formatted(.iso8601) ?? "" }
        return [
            connection.merchantId, connection.partnerReference ?? "", connection.status.rawValue, connection.scopes,
            iso(connection.expiresAt), iso(connection.lastRefreshedAt), iso(connection.lastCheckedAt), iso(connection.connectedAt),
        ]
    }

    /// The store query of `parameters` (`q`, `status`, `sort`, `after`); a value this page never offers is an error.
    static func query(
        _ parameters: [String: String],
        environment: String,
        limit: Int
    ) throws(AdminQueryError) -> ConnectionQuery {
        var query = ConnectionQuery(environment: environment, limit: limit)
        if let search = parameters["q"], !search.isEmpty {
            guard search.count <= maxSearchLength else {
                throw AdminQueryError(message: "A search has at most \(maxSearchLength) characters.")
            }
            query.search = search
        }
        if let status = parameters["status"], !status.isEmpty {
            guard let value = ConnectionStatus(rawValue: status) else { throw AdminQueryError(message: "There is no status of that name.") }
            query.status = value
        }
        if let sort = parameters["sort"], !sort.isEmpty {
            guard let value = ConnectionQuery.Sort(rawValue: sort) else {
                throw AdminQueryError(message: "Connections can be sorted by recent, expiry or merchant.")
            }
            query.sort = value
        }
        if let after = parameters["after"], !after.isEmpty {
            guard let cursor = ConnectionCursor(token: after) else {
                throw AdminQueryError(message: "That page link is not one this dashboard made. Start again from the first page.")
            }
            query.after = cursor
        }
        return query
    }
}

/// RFC 4180 text with spreadsheet formulas defused.
enum CSV {
    /// One record, its cells separated by commas, ended by CRLF.
    static func row(_ cells: [String]) -> String {
        cells.map(cell).joined(separator: ",") + "\r\n"
    }

    /// A cell: a leading `= + - @` (or tab, CR) gets a `'` so spreadsheets do not run it; quoted when it must be.
    static func cell(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.unicodeScalars.contains(where: { ",\"\n\r'".unicodeScalars.contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// "1–50 of 100,006": which rows of a list a page shows, with thousands separators.
enum AdminListRange {
    static func text(first: Int, count: Int, total: ConnectionTotal?) -> String? {
        guard count > 0 else { return nil }
        let rows = "\(AdminNumber.grouped(first))–\(AdminNumber.grouped(first + count - 1))"
        guard let total else { return rows }
        return total.isLowerBound ? "\(rows) of at least \(AdminNumber.grouped(total.count))" : "\(rows) of \(AdminNumber.grouped(total.count))"
    }
}
