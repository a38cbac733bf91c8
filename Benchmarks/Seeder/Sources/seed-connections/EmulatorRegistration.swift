import Foundation
import Onboarding
import SquareOAuth

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Registers seeded tokens at a running emulator with `POST /_emulator/merchants`.
struct EmulatorRegistration {
    let endpoint: URL

    init(baseURL: URL) {
        endpoint = baseURL.appendingPathComponent("_emulator/merchants")
    }

    /// Registers the connections whose tokens Square would still know (active and expired ones).
    func register(_ connections: [ImportedConnection]) async throws {
        let merchants = connections.filter { $0.status == .active || $0.status == .expired }.map { connection in
            [
                "merchant_id": connection.merchantId,
                "access_token": connection.accessToken.value,
                "refresh_token": connection.refreshToken.value,
                "expires_at": connection.expiresAt.formatted(.iso8601),
                "refresh_token_expires_at": connection.refreshTokenExpiresAt?.formatted(.iso8601) as Any,
                "scopes": connection.scopes,
                "flow": connection.flow.rawValue,
            ] as [String: Any]
        }
        guard !merchants.isEmpty else { return }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["merchants": merchants])
        let (body, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 201 else {
            throw SeedError.emulator("POST \(endpoint) answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
    }
}
