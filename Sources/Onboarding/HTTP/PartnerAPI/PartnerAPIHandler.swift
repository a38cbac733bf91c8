import Foundation
import OpenAPIRuntime

/// The partner API's operations, as the OpenAPI document declares them; errors are thrown as `PartnerError`.
struct PartnerAPIHandler: APIProtocol {
    let api: PartnerAPIService

    /// POST /onboarding-links — a link for one merchant.
    func createOnboardingLink(_ input: Operations.CreateOnboardingLink.Input) async throws -> Operations.CreateOnboardingLink.Output {
        let partner = try PartnerCaller.required()
        guard case .json(let body) = input.body else { throw PartnerError.invalidField(field: "body", reason: "send JSON") }
        let (link, url) = try await api.createLink(
            .init(
                reference: body.reference,
                returnURL: body.returnUrl,
                scopes: body.scopes,
                expiresIn: body.expiresIn,
                mode: body.mode.flatMap { LinkMode(rawValue: $0.rawValue) },
                refreshURL: body.refreshUrl
            ),
            for: partner
        )
        return .created(.init(body: .json(Self.link(link, url: url, now: api.clock.now()))))
    }

    /// GET /onboarding-links/{link_id} — one link: where it stands and how its flow ended.
    func getOnboardingLink(_ input: Operations.GetOnboardingLink.Input) async throws -> Operations.GetOnboardingLink.Output {
        let partner = try PartnerCaller.required()
        let link = try await api.link(id: input.path.linkId, for: partner)
        return .ok(.init(body: .json(Self.link(link, url: api.linkURL(link), now: api.clock.now()))))
    }

    /// DELETE /onboarding-links/{link_id} — cancel an open link.
    func cancelOnboardingLink(_ input: Operations.CancelOnboardingLink.Input) async throws -> Operations.CancelOnboardingLink.Output {
        let partner = try PartnerCaller.required()
        let link = try await api.cancelLink(id: input.path.linkId, for: partner)
        return .ok(.init(body: .json(Self.link(link, url: api.linkURL(link), now: api.clock.now()))))
    }

    /// GET /events — the partner's events, oldest first, a keyset page at a time.
    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let partner = try PartnerCaller.required()
        let query = input.query
        let page = try await api.events(after: query.after, type: query._type?.rawValue, limit: query.limit ?? 50, for: partner)
        return .ok(.init(body: .json(.init(data: try page.events.map(Self.event), hasMore: page.hasMore))))
    }

    /// POST /webhook-endpoint/test — a signed test event sent now.
    func testWebhookEndpoint(_ input: Operations.TestWebhookEndpoint.Input) async throws -> Operations.TestWebhookEndpoint.Output {
        let partner = try PartnerCaller.required()
        let test = try await api.testWebhook(for: partner)
        let result: Components.Schemas.WebhookTestResult
        switch test.outcome {
        case .answered(let status):
            result = .init(webhookId: test.id, delivered: (200..<300).contains(status), status: status)
        case .failed(let error):
            result = .init(webhookId: test.id, delivered: false, error: error)
        }
        return .ok(.init(body: .json(result)))
    }

    /// An event as the API lists it: the stored webhook body's `data`, under the webhook's id.
    static func event(_ record: WebhookDeliveryRecord) throws -> Components.Schemas.Event {
        struct StoredBody: Decodable {
            var data: Components.Schemas.Event.DataPayload
        }
        let body = try JSONDecoder().decode(StoredBody.self, from: Data(record.payload.utf8))
        return .init(id: record.id, _type: record.type, timestamp: record.createdAt, data: body.data)
    }

    /// GET /connections — the partner's connections, a page at a time.
    func listConnections(_ input: Operations.ListConnections.Input) async throws -> Operations.ListConnections.Output {
        let partner = try PartnerCaller.required()
        let query = input.query
        let page = try await api.connections(
            reference: query.reference,
            status: query.status.flatMap { ConnectionStatus(rawValue: $0.rawValue) },
            cursor: query.cursor,
            limit: query.limit ?? 50,
            for: partner
        )
        return .ok(.init(body: .json(.init(data: page.connections.map(Self.connection), nextCursor: page.next?.token))))
    }

    /// GET /connections/{merchant_id} — one connection, no token.
    func getConnection(_ input: Operations.GetConnection.Input) async throws -> Operations.GetConnection.Output {
        let partner = try PartnerCaller.required()
        let connection = try await api.connection(merchantId: input.path.merchantId, for: partner)
        return .ok(.init(body: .json(Self.connection(connection))))
    }

    /// DELETE /connections/{merchant_id} — revoke at Square and end the connection.
    func deleteConnection(_ input: Operations.DeleteConnection.Input) async throws -> Operations.DeleteConnection.Output {
        let partner = try PartnerCaller.required()
        let connection = try await api.disconnect(merchantId: input.path.merchantId, for: partner)
        return .ok(.init(body: .json(Self.connection(connection))))
    }

    /// POST /connections/{merchant_id}/access-token — a token valid for at least the asked time.
    func issueAccessToken(_ input: Operations.IssueAccessToken.Input) async throws -> Operations.IssueAccessToken.Output {
        let partner = try PartnerCaller.required()
        var minimum: Int?
        if case .json(let body) = input.body { minimum = body.minValidFor }
        let (token, connection) = try await api.accessToken(merchantId: input.path.merchantId, minimumValidity: minimum, for: partner)
        return .ok(
            .init(
                body: .json(
                    .init(
                        accessToken: token.value,
                        tokenType: connection.tokenType,
                        expiresAt: connection.expiresAt ?? .distantFuture,
                        merchantId: connection.merchantId
                    )
                )
            )
        )
    }

    /// A link as the API shows it.
    static func link(_ link: OnboardingLinkRecord, url: URL, now: Date) -> Components.Schemas.OnboardingLink {
        .init(
            id: link.id,
            url: url.absoluteString,
            expiresAt: link.expiresAt,
            reference: link.reference,
            returnUrl: link.returnUrl,
            scopes: link.scopes.split(separator: " ").map(String.init),
            mode: .init(rawValue: link.mode.rawValue) ?? .redirect,
            refreshUrl: link.refreshUrl,
            status: .init(rawValue: link.status(at: now).rawValue) ?? .open,
            result: link.result.flatMap { .init(rawValue: $0.rawValue) },
            error: link.resultError,
            merchantId: link.merchantId,
            createdAt: link.createdAt,
            completedAt: link.usedAt,
            cancelledAt: link.cancelledAt
        )
    }

    /// A connection as the API shows it: every non-secret field.
    static func connection(_ record: ConnectionRecord) -> Components.Schemas.Connection {
        .init(
            merchantId: record.merchantId,
            reference: record.partnerReference,
            status: .init(rawValue: record.status.rawValue) ?? .revoked,
            scopes: record.scopes.split(separator: " ").map(String.init),
            environment: record.environment,
            expiresAt: record.expiresAt,
            connectedAt: record.connectedAt,
            lastRefreshedAt: record.lastRefreshedAt,
            lastCheckedAt: record.lastCheckedAt,
            revokedAt: record.revokedAt,
            revokedBy: record.revokedBy
        )
    }
}
