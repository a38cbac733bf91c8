import Foundation
import Hummingbird

/// Owners manage partners from the dashboard, as `square-onboard partner …` does: add one, issue and revoke API keys,
/// replace the signing secret, remove one. New secrets are shown once, on the answer to the form, never again.
struct AdminPartnerOwnerController {
    let pages: PageRenderer
    let partners: PartnerDirectory

    var endpoints: RouteCollection<AdminRequestContext> {
        let routes = RouteCollection(context: AdminRequestContext.self)
        routes.post("/admin/partners", use: add)
        routes.post("/admin/partners/{name}/keys", use: newKey)
        routes.post("/admin/partners/{name}/keys/{prefix}/revoke", use: revokeKey)
        routes.post("/admin/partners/{name}/secret", use: newSecret)
        routes.post("/admin/partners/{name}/remove", use: remove)
        routes.post("/admin/partners/{name}/settings", use: change)
        return routes
    }

    /// The fields the partner forms post besides the CSRF token.
    struct PartnerForm: Decodable {
        var name: String?
        var display_name: String?
        var return_urls: String?
        var popup_origins: String?
        var webhook_url: String?
        var confirm: String?
    }

    /// POST /admin/partners — adds a partner; the answer shows its API key and signing secret once.
    @Sendable func add(request: Request, context: AdminRequestContext) async throws -> Response {
        let form = try await request.decode(as: PartnerForm.self, context: context)
        let settings = PartnerDirectory.Settings(
            displayName: form.display_name,
            returnURLs: PartnerRecord.lines(form.return_urls ?? ""),
            popupOrigins: PartnerRecord.lines(form.popup_origins ?? ""),
            webhookURL: form.webhook_url.flatMap { $0.isEmpty ? nil : $0 }
        )
        return try await acting { () async throws(PartnerError) -> Response in
            let (partner, secrets) = try await partners.add(name: form.name ?? "", settings: settings, actor: actor(context))
            return secretsPage(context, partner: partner.name, apiKey: secrets.apiKey, signingSecret: secrets.signingSecret)
        }
    }

    /// POST /admin/partners/{name}/keys — one more API key, shown once; the older ones keep working until revoked.
    @Sendable func newKey(request: Request, context: AdminRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        return try await acting { () async throws(PartnerError) -> Response in
            let (_, key) = try await partners.rotateKey(name: name, actor: actor(context))
            return secretsPage(context, partner: name, apiKey: key, signingSecret: nil)
        }
    }

    /// POST /admin/partners/{name}/keys/{prefix}/revoke — ends one API key.
    @Sendable func revokeKey(request: Request, context: AdminRequestContext) async throws -> Response {
        let (name, prefix) = (context.parameters.get("name") ?? "", context.parameters.get("prefix") ?? "")
        return try await acting { () async throws(PartnerError) -> Response in
            try await partners.revokeKey(name: name, prefix: prefix, actor: actor(context))
            return back(.keyRevoked, name: name, key: prefix)
        }
    }

    /// POST /admin/partners/{name}/secret — a new signing secret, shown once.
    @Sendable func newSecret(request: Request, context: AdminRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        return try await acting { () async throws(PartnerError) -> Response in
            let secret = try await partners.rotateSigningSecret(name: name, actor: actor(context))
            return secretsPage(context, partner: name, apiKey: nil, signingSecret: secret)
        }
    }

    /// POST /admin/partners/{name}/settings — replaces the display name, return URLs, popup origins and webhook URL.
    @Sendable func change(request: Request, context: AdminRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let form = try await request.decode(as: PartnerForm.self, context: context)
        let webhook = form.webhook_url.map { $0.trimmingCharacters(in: .whitespaces) }
        return try await acting { () async throws(PartnerError) -> Response in
            _ = try await partners.update(
                name: name,
                displayName: form.display_name,
                returnURLs: PartnerRecord.lines(form.return_urls ?? ""),
                popupOrigins: PartnerRecord.lines(form.popup_origins ?? ""),
                webhookURL: .some(webhook.flatMap { $0.isEmpty ? nil : $0 }),
                actor: actor(context)
            )
            return back(.settingsChanged, name: name)
        }
    }

    /// POST /admin/partners/{name}/remove — removes the partner with its keys and links, once its name is typed again.
    @Sendable func remove(request: Request, context: AdminRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let form = try await request.decode(as: PartnerForm.self, context: context)
        guard form.confirm == name else {
            return problem(PartnerError.invalidField(field: "confirm", reason: "type the partner's name to remove it"))
        }
        return try await acting { () async throws(PartnerError) -> Response in
            _ = try await partners.remove(name: name, actor: actor(context))
            return back(.partnerRemoved, name: name)
        }
    }

    private func actor(_ context: AdminRequestContext) -> AuditActor { .admin(context.admin.admin.name) }

    /// Runs an action; a refusal (bad name or URL, unknown partner or key) is a 400 or 404 page, nothing done.
    private func acting(_ action: () async throws(PartnerError) -> Response) async throws -> Response {
        do {
            return try await action()
        } catch {
            if error == .storageUnavailable { throw AdminError.storageUnavailable }
            return problem(error)
        }
    }

    private func problem(_ error: PartnerError) -> Response {
        let status: HTTPResponse.Status = error.status == .notFound ? .notFound : .badRequest
        return pages.adminErrorPage(
            status: status,
            title: "That could not be done",
            message: "\(error.description.prefix(1).uppercased())\(error.description.dropFirst()). Nothing was changed."
        )
    }

    /// Back to the partners page with a notice: its code and the names it mentions, never its text.
    private func back(_ notice: AdminPartnersNotice, name: String, key: String? = nil) -> Response {
        let query = [("done", notice.rawValue), ("name", name)] + (key.map { [("key", $0)] } ?? [])
        return Response(status: .seeOther, headers: [.location: AdminPaths.path("/admin/partners", query)])
    }

    private func secretsPage(_ context: AdminRequestContext, partner: String, apiKey: String?, signingSecret: String?) -> Response {
        pages.adminPage(
            "admin/partner-secrets",
            AdminPartnerSecretsPageModel(platformName: pages.platformName, partner: partner, apiKey: apiKey, signingSecret: signingSecret),
            session: context.admin,
            section: .partners
        )
    }
}

/// The one time a new API key or signing secret is shown.
struct AdminPartnerSecretsPageModel: Sendable {
    var platformName: String
    var partner: String
    var apiKey: String?
    var signingSecret: String?
}
