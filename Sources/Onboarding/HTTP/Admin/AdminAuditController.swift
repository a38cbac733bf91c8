import Foundation
import Hummingbird

/// The audit log, newest first, filtered by merchant, actor and action, paged by event id.
struct AdminAuditController {
    let pages: PageRenderer
    let store: any OnboardingStore
    let clock: AppClock

    static let pageSize = 50

    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/audit", use: log)
        return routes
    }

    /// GET /admin/audit — 50 events, the filters as typed, and a link to older ones.
    @Sendable func log(request: Request, context: AdminRequestContext) async throws -> Response {
        var query: AuditQuery
        do { query = try Self.query(AdminFormQuery.parameters(request.uri.query)) } catch { return pages.adminBadQuery(error) }
        // One more than a page, to know whether older events follow.
        query.limit = Self.pageSize + 1
        let (store, asked) = (self.store, query)
        let events = try await AdminError.reading { () async throws(StorageError) in try await store.auditEvents(matching: asked) }
        let shown = events.prefix(Self.pageSize)
        let now = clock.now()
        let filters: [(String, String?)] = [
            ("merchant", query.merchantId), ("actor", query.actor?.description), ("action", query.action?.rawValue),
        ]
        let model = AdminAuditPageModel(
            platformName: pages.platformName,
            merchant: query.merchantId ?? "",
            actor: query.actor?.description ?? "",
            actions: [OptionModel(value: "", label: "Any action", selected: query.action == nil)]
                + AuditAction.allCases.map { OptionModel(value: $0.rawValue, label: $0.rawValue, selected: query.action == $0) },
            rows: shown.map { AuditRowModel($0, now: now) },
            olderPath: events.count > Self.pageSize
                ? shown.last?.id.map { AdminPaths.path("/admin/audit", filters + [("before", String($0))]) } : nil,
            isFirstPage: query.beforeId == nil,
            firstPath: AdminPaths.path("/admin/audit", filters)
        )
        return pages.adminPage("admin/audit", model, session: context.admin, section: .audit)
    }

    /// The store query of `parameters` (`merchant`, `actor`, `action`, `before`); a value it cannot read is an error.
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
        if let before = parameters["before"], !before.isEmpty {
            guard let id = Int64(before), id > 0 else {
                throw AdminQueryError(message: "That page link is not one this dashboard made. Start again from the newest events.")
            }
            query.beforeId = id
        }
        return query
    }
}
