import Foundation
import Hummingbird

/// The dashboard's first page: who is signed in, the connections by status, what needs attention, recent events.
struct AdminHomeController {
    let pages: PageRenderer
    let store: any DashboardStore
    let environment: String
    let clock: AppClock

    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin", use: home)
        return routes
    }

    /// GET /admin — the overview, with the signed-in admin and Sign out.
    @Sendable func home(request: Request, context: AdminRequestContext) async throws -> Response {
        let now = clock.now()
        let (store, environment) = (self.store, self.environment)
        let overview = try await AdminError.reading { () async throws(StorageError) in
            try await store.connectionOverview(
                environment: environment,
                now: now,
                expiringBefore: now.addingTimeInterval(7 * 86_400),
                failuresSince: now.addingTimeInterval(-86_400)
            )
        }
        let reauth = try await AdminError.reading { () async throws(StorageError) in
            try await store.connections(matching: ConnectionQuery(environment: environment, status: .needsReauth, limit: 10))
        }
        let events = try await AdminError.reading { () async throws(StorageError) in
            try await store.auditEvents(matching: AuditQuery(limit: 20))
        }
        let session = context.admin
        let model = AdminOverviewPageModel(
            platformName: pages.platformName,
            adminName: session.admin.name,
            role: session.admin.role.rawValue,
            canOperate: session.admin.role >= .operator,
            canManageAdmins: session.admin.role >= .owner,
            sessionEndsAt: ConnectionPageModel.format(session.session.expiresAt),
            csrfToken: session.session.csrfToken,
            counts: ConnectionStatus.allCases.map {
                StatusCountModel(
                    status: $0.rawValue,
                    badge: StatusBadgeModel($0),
                    count: AdminNumber.grouped(overview.countsByStatus[$0] ?? 0),
                    path: AdminPaths.path("/admin/connections", [("status", $0.rawValue)])
                )
            },
            expiringSoon: AdminNumber.grouped(overview.expiringSoon),
            refreshFailures: AdminNumber.grouped(overview.refreshFailures),
            needsReauth: reauth.connections.map { ConnectionRowModel($0, now: now) },
            moreNeedReauth: reauth.next != nil,
            recentEvents: events.map { AuditRowModel($0, now: now) }
        )
        return pages.adminPage("admin/home", model, session: context.admin, section: .overview)
    }
}
