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
                mode: body.mode.flatMap { LinkMode(rawValue: $0.rawValue) }
            ),
            for: partner
        )
        return .created(
            .init(
                body: .json(
                    .init(
                        id: link.id,
                        url: url.absoluteString,
                        expiresAt: link.expiresAt,
                        reference: link.reference,
                        returnUrl: link.returnUrl,
                        scopes: link.scopes.split(separator: " ").map(String.init),
                        mode: .init(rawValue: link.mode.rawValue) ?? .redirect
                    )
                )
            )
        )
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
