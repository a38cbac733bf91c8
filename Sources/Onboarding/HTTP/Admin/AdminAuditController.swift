import Foundation
import Hummingbird

/// The audit log, newest first, filtered by merchant, actor, action and days, paged by event id, and its CSV export.
struct AdminAuditController {
    let pages: PageRenderer
    let store: any DashboardStore & AuditLog & AdminStore & PartnerStore
    let clock: AppClock

    static let pageSize = 50
    static let exportBatchSize = 500
    /// The most events one export holds; more is refused with a request to narrow the filter, never cut short.
    static let exportLimit = 100_000

    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/audit", use: log)
        routes.get("/admin/audit.csv", use: export)
        return routes
    }

    /// GET /admin/audit — 50 events, the filters as chosen, and a link to older ones.
    @Sendable func log(request: Request, context: AdminRequestContext) async throws -> Response {
        var (query, parameters): (AuditQuery, [String: String])
        do { (query, parameters) = try Self.read(request.uri.query) } catch { return pages.adminBadQuery(error) }
        // One more than a page, to know whether older events follow.
        query.limit = Self.pageSize + 1
        let (store, asked) = (self.store, query)
        let events = try await AdminError.reading { () async throws(StorageError) in try await store.auditEvents(matching: asked) }
        let admins = try await AdminError.reading { () async throws(StorageError) in try await store.allAdmins() }
        let partners = try await AdminError.reading { () async throws(StorageError) in try await store.allPartners() }
        let shown = events.prefix(Self.pageSize)
        let now = clock.now()
        let filters = Self.filters(query, parameters)
        let model = AdminAuditPageModel(
            platformName: pages.platformName,
            merchant: query.merchantId ?? "",
            from: parameters["from"] ?? "",
            to: parameters["to"] ?? "",
            actors: Self.actorOptions(selected: query.actor, admins: admins.map(\.name), partners: partners.map { ($0.id, $0.name) }),
            actions: [OptionModel(value: "", label: "Any action", selected: query.action == nil)]
                + AuditAction.allCases.map { OptionModel(value: $0.rawValue, label: $0.rawValue, selected: query.action == $0) },
            rows: shown.map { AuditRowModel($0, now: now) },
            olderPath: events.count > Self.pageSize
                ? shown.last?.id.map { AdminPaths.path("/admin/audit", filters + [("before", String($0))]) } : nil,
            isFirstPage: query.beforeId == nil,
            firstPath: AdminPaths.path("/admin/audit", filters),
            csvPath: AdminPaths.path("/admin/audit.csv", filters)
        )
        return pages.adminPage("admin/audit", model, session: context.admin, section: .audit)
    }

    /// GET /admin/audit.csv — every event the filters match, newest first; itself an audit event (who, filter, rows).
    @Sendable func export(request: Request, context: AdminRequestContext) async throws -> Response {
        var (query, parameters): (AuditQuery, [String: String])
        do { (query, parameters) = try Self.read(request.uri.query) } catch { return pages.adminBadQuery(error) }
        query.beforeId = nil
        query.limit = Self.exportBatchSize
        let store = self.store
        var csv = CSV.row(["id", "occurred_at", "actor", "action", "merchant_id", "detail"])
        var rows = 0
        while rows <= Self.exportLimit {
            let batch = query
            let events = try await AdminError.reading { () async throws(StorageError) in try await store.auditEvents(matching: batch) }
            for event in events {
                csv += CSV.row([
                    event.id.map(String.init) ?? "", event.occurredAt.formatted(.iso8601), event.actor.description, event.action.rawValue,
                    event.merchantId ?? "", event.detail,
                ])
            }
            rows += events.count
            guard events.count == Self.exportBatchSize, let last = events.last?.id else { break }
            query.beforeId = last
        }
        guard rows <= Self.exportLimit else {
            return pages.adminErrorPage(
                status: .badRequest,
                title: "Too many events for one file",
                message: "More than \(AdminNumber.grouped(Self.exportLimit)) events match. Choose a shorter date range or another filter."
            )
        }
        let filter = Self.filters(query, parameters).map { "\($0.0)=\($0.1 ?? "")" }.joined(separator: " ")
        let audit = AuditEventRecord(
            occurredAt: clock.now(),
            actor: .admin(context.admin.admin.name),
            action: .adminExported,
            detail: "export=audit \(filter.isEmpty ? "all" : filter) rows=\(rows)"
        )
        try await AdminError.reading { () async throws(StorageError) in try await store.appendAudit(audit) }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: #"attachment; filename="audit.csv""#],
            body: ResponseBody(byteBuffer: ByteBuffer(string: csv))
        )
    }

    /// The store query of an address's query string, and its parameters as sent.
    static func read(_ queryString: String?) throws(AdminQueryError) -> (AuditQuery, [String: String]) {
        let parameters = try AdminFormQuery.parameters(queryString)
        return (try query(parameters), parameters)
    }

    /// The filters of a query as the address carries them, empty ones left out.
    static func filters(_ query: AuditQuery, _ parameters: [String: String]) -> [(String, String?)] {
        [
            ("merchant", query.merchantId), ("actor", query.actor?.description), ("action", query.action?.rawValue),
            ("from", query.from == nil ? nil : parameters["from"]), ("to", query.until == nil ? nil : parameters["to"]),
        ].filter { $0.1 != nil }
    }

    /// The actor select: anyone, each kind of actor, each admin and each partner, and the chosen one even if it has
    /// gone (a removed admin's events stay).
    static func actorOptions(selected: AuditActor?, admins: [String], partners: [(id: String, name: String)]) -> [OptionModel] {
        var choices: [(AuditActor, String)] = [
            (.merchant, "merchant"), (.system, "system"), (.square, "Square"), (.cli, "command line"),
        ]
        choices += admins.map { (.admin($0), "admin \($0)") }
        choices += partners.map { (.partner($0.id), "partner \($0.name)") }
        if let selected, !choices.contains(where: { $0.0 == selected }) { choices.append((selected, selected.description)) }
        return [OptionModel(value: "", label: "Anyone", selected: selected == nil)]
            + choices.map { OptionModel(value: $0.0.description, label: $0.1, selected: $0.0 == selected) }
    }

    /// The store query of `parameters` (`merchant`, `actor`, `action`, `from`, `to`, `before`); a value it cannot read
    /// is an error. `from` and `to` are whole days (YYYY-MM-DD, UTC), both included.
    static func query(_ parameters: [String: String]) throws(AdminQueryError) -> AuditQuery {
        var query = AuditQuery()
        if let merchant = parameters["merchant"], !merchant.isEmpty {
            guard merchant.count <= AdminConnectionsController.maxSearchLength else {
                throw AdminQueryError(message: "A merchant id has at most \(AdminConnectionsController.maxSearchLength) characters.")
            }
            query.merchantId = merchant
        }
        if let actor = parameters["actor"], !actor.isEmpty {
            guard actor.count <= 200, let value = AuditActor(actor) else {
                throw AdminQueryError(message: "An actor is merchant, system, square, cli, admin:NAME or partner:ID.")
            }
            query.actor = value
        }
        if let action = parameters["action"], !action.isEmpty {
            guard let value = AuditAction(rawValue: action) else { throw AdminQueryError(message: "There is no action of that name.") }
            query.action = value
        }
        query.from = try day(parameters["from"], named: "From")
        query.until = try day(parameters["to"], named: "To").map { $0.addingTimeInterval(86_400) }
        if let from = query.from, let until = query.until, until <= from {
            throw AdminQueryError(message: "The To day is before the From day.")
        }
        if let before = parameters["before"], !before.isEmpty {
            guard let id = Int64(before), id > 0 else {
                throw AdminQueryError(message: "That page link is not one this dashboard made. Start again from the newest events.")
            }
            query.beforeId = id
        }
        return query
    }

    /// The start (00:00 UTC) of a day typed as YYYY-MM-DD; nil when nothing was typed.
    static func day(_ text: String?, named label: String) throws(AdminQueryError) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        guard text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/) != nil,
            let date = try? Date(text + "T00:00:00Z", strategy: .iso8601),
            date.formatted(.iso8601.year().month().day()) == text
        else { throw AdminQueryError(message: "\(label) is a day written as YYYY-MM-DD, such as 2026-12-07.") }
        return date
    }
}
