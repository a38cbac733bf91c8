import Foundation
import Hummingbird

/// Partners and their webhook deliveries in the dashboard: who they are, their keys by prefix, whether their endpoint
/// is failing, each delivery's state, and (operators) sending one again.
struct AdminPartnersController {
    let pages: PageRenderer
    let store: any PartnerStore & WebhookOutboxStore & AuditLog
    let clock: AppClock

    static let deliveriesShown = 100

    var viewerEndpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.get("/admin/partners", use: partners)
        return routes
    }

    var operatorEndpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.post("/admin/webhooks/{id}/resend", use: resend)
        return routes
    }

    /// GET /admin/partners — every partner, then the newest webhook deliveries (of one partner with `?partner=ID`).
    @Sendable func partners(request: Request, context: AdminRequestContext) async throws -> Response {
        let store = self.store
        let partnerFilter = request.uri.queryParameters.get("partner").flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
        let partners = try await AdminError.reading { () async throws(StorageError) in try await store.allPartners() }
        var rows: [AdminPartnerRowModel] = []
        let now = clock.now()
        for partner in partners {
            let keys = try await AdminError.reading { () async throws(StorageError) in try await store.partnerKeys(partnerId: partner.id) }
            rows.append(AdminPartnerRowModel(partner, keys: keys, now: now))
        }
        let limit = Self.deliveriesShown
        let deliveries = try await AdminError.reading { () async throws(StorageError) in
            try await store.webhookDeliveries(partnerId: partnerFilter, limit: limit)
        }
        let names = Dictionary(partners.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let canResend = context.admin.admin.role >= .operator
        let model = AdminPartnersPageModel(
            platformName: pages.platformName,
            csrfToken: context.admin.session.csrfToken,
            partners: rows,
            deliveries: deliveries.map {
                AdminDeliveryRowModel($0, partnerName: names[$0.partnerId] ?? $0.partnerId, canResend: canResend, now: now)
            },
            notice: AdminPartnersNotice.text(request.uri.queryParameters),
            isOwner: context.admin.admin.role >= .owner
        )
        return pages.adminPage("admin/partners", model, session: context.admin, section: .partners)
    }

    /// POST /admin/webhooks/{id}/resend — queues a delivery again now, audited with the admin's name.
    @Sendable func resend(request: Request, context: AdminRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard id.hasPrefix("msg_"), id.utf8.count <= 64 else { return noSuchDelivery() }
        let (store, now) = (self.store, clock.now())
        let audit = AuditEventRecord(occurredAt: now, actor: .admin(context.admin.admin.name), action: .webhookResent, detail: "webhook=\(id)")
        let found = try await AdminError.reading { () async throws(StorageError) in
            try await store.resendWebhookDelivery(id: id, now: now, audit: audit)
        }
        guard found else { return noSuchDelivery() }
        return Response(
            status: .seeOther,
            headers: [.location: AdminPaths.path("/admin/partners", [("done", AdminPartnersNotice.resent.rawValue), ("webhook", id)])]
        )
    }

    /// The admin realm's 404 page for a delivery id that names none: nothing was done.
    private func noSuchDelivery() -> Response {
        pages.adminErrorPage(status: .notFound, title: "No such webhook delivery", message: "No webhook delivery has that id. Nothing was sent.")
    }
}

/// The partners page.
struct AdminPartnersPageModel: Sendable {
    var platformName: String
    var csrfToken: String
    var partners: [AdminPartnerRowModel]
    var deliveries: [AdminDeliveryRowModel]
    var notice: String?
    /// Stored, for Mustache: owners see the forms that add partners and manage their keys and secrets.
    var isOwner: Bool
}

/// One partner: settings, key prefixes with their state, and its endpoint's health.
struct AdminPartnerRowModel: Sendable {
    struct Key: Sendable {
        var prefix: String
        var state: String
        var live: Bool
        var revokePath: String
    }

    var id: String
    var name: String
    var displayName: String
    var returnURLs: String
    var popupOrigins: String
    var webhookURL: String
    var failing: Bool
    var failingSince: String
    var keys: [Key]
    var deliveriesPath: String
    var keysPath: String
    var secretPath: String
    var removePath: String
    var settingsPath: String
    /// The settings as the edit form shows them: one URL per line, an empty webhook field for none.
    var returnURLLines: String
    var popupOriginLines: String
    var webhookValue: String

    init(_ partner: PartnerRecord, keys: [PartnerApiKeyRecord], now: Date) {
        id = partner.id
        name = partner.name
        displayName = partner.displayName
        returnURLs = partner.returnURLPrefixes.joined(separator: ", ")
        popupOrigins = partner.popupOriginList.isEmpty ? "—" : partner.popupOriginList.joined(separator: ", ")
        webhookURL = partner.webhookUrl ?? "—"
        failing = partner.webhookFailingSince != nil
        failingSince = partner.webhookFailingSince.map { MomentModel($0, now: now).relative } ?? ""
        self.keys = keys.map { key in
            Key(
                prefix: key.prefix,
                state: key.revokedAt != nil ? "revoked" : "live, last used " + (key.lastUsedAt.map { MomentModel($0, now: now).relative } ?? "never"),
                live: key.revokedAt == nil,
                revokePath: "/admin/partners/\(AdminPaths.encode(partner.name))/keys/\(AdminPaths.encode(key.prefix))/revoke"
            )
        }
        deliveriesPath = AdminPaths.path("/admin/partners", [("partner", partner.id)])
        let base = "/admin/partners/" + AdminPaths.encode(partner.name)
        (keysPath, secretPath, removePath, settingsPath) = (base + "/keys", base + "/secret", base + "/remove", base + "/settings")
        returnURLLines = partner.returnURLPrefixes.joined(separator: "\n")
        popupOriginLines = partner.popupOriginList.joined(separator: "\n")
        webhookValue = partner.webhookUrl ?? ""
    }
}

/// One webhook delivery.
struct AdminDeliveryRowModel: Sendable {
    var id: String
    var type: String
    var partnerName: String
    /// Nil for a link that ended before a merchant was known.
    var merchantId: String?
    var merchantPath: String?
    var state: String
    var stateClass: String
    var attempts: Int
    var lastResult: String
    var created: MomentModel
    /// Stored, for Mustache: an operator may send it again (it is not delivered).
    var canResend: Bool
    var resendPath: String

    init(_ delivery: WebhookDeliveryRecord, partnerName: String, canResend: Bool, now: Date) {
        id = delivery.id
        type = delivery.type
        self.partnerName = partnerName
        merchantId = delivery.merchantId
        merchantPath = delivery.merchantId.map(AdminPaths.connection)
        state = delivery.state
        stateClass = delivery.state == "failed" ? "bad" : (delivery.state == "delivered" ? "ok" : "warn")
        attempts = delivery.attempts
        lastResult = delivery.lastError ?? delivery.lastStatus.map { "answered \($0)" } ?? "—"
        created = MomentModel(delivery.createdAt, now: now)
        self.canResend = canResend && delivery.deliveredAt == nil
        resendPath = "/admin/webhooks/\(AdminPaths.encode(delivery.id))/resend"
    }
}

/// The notices the partners page shows after an action: a fixed sentence per code, naming only values that pass the
/// same checks as the names themselves, so a crafted link cannot put words on the page.
enum AdminPartnersNotice: String {
    case keyRevoked = "key_revoked"
    case settingsChanged = "settings_changed"
    case partnerRemoved = "partner_removed"
    case resent

    /// The notice a query asks for, or nil when its code or a value it names is not one this page makes.
    static func text(_ query: Hummingbird.Parameters) -> String? {
        guard let code = query.get("done").flatMap(Self.init(rawValue:)) else { return nil }
        let name = query.get("name").flatMap { PartnerDirectory.isValidName($0) ? $0 : nil }
        switch code {
        case .resent:
            guard let id = query.get("webhook"), id.wholeMatch(of: /msg_[0-9a-f]{1,60}/) != nil else { return nil }
            return "Delivery \(id) is queued to be sent again."
        case .keyRevoked:
            guard let name, let key = query.get("key"), key.wholeMatch(of: /sok_[A-Za-z0-9]{1,16}/) != nil else { return nil }
            return "Revoked API key \(key)… of \(name)."
        case .settingsChanged:
            return name.map { "Changed the settings of \($0)." }
        case .partnerRemoved:
            return name.map { "Removed partner \($0) with its API keys and links; its connections stay." }
        }
    }
}
