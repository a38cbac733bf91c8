import AsyncHTTPClient
import Foundation
import NIOCore

/// Posts one signed webhook to a partner's endpoint: the target's address checked first (`WebhookTargetGuard`), the
/// Standard Webhooks headers added, redirects never followed. Used by the dispatcher and by the API's test event.
struct WebhookSender: Sendable {
    var targets: WebhookTargetGuard
    var timeout: TimeAmount = .seconds(10)

    /// What became of one attempt.
    enum Outcome: Sendable, Equatable {
        /// The endpoint answered with this status.
        case answered(Int)
        /// No answer (or a refused target), in a few words for the delivery's last error.
        case failed(String)
    }

    /// Sends `body` as message `id` to `url`, signed with `secret`; `shared` is used unless the address must be pinned.
    func send(id: String, body: String, to url: String, secret: String, now: Date, client shared: HTTPClient?) async -> Outcome {
        guard let parsed = URL(string: url), let host = parsed.host(percentEncoded: false) else { return .failed("the webhook URL is not valid") }
        let pinned: String?
        do {
            pinned = try await targets.pinnedAddress(for: parsed)
        } catch {
            return .failed(error.reason)
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "square-onboard-webhooks")
        for (name, value) in WebhookSigner.headers(id: id, timestamp: now, body: body, secret: secret) {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(string: body))
        let client: HTTPClient
        var owned: HTTPClient?
        if let shared, pinned == nil {
            client = shared
        } else {
            var override: [String: String] = [:]
            if let pinned, pinned != host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) { override[host] = pinned }
            let made = HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: Self.configuration(timeout: timeout, dnsOverride: override)
            )
            owned = made
            client = made
        }
        let outcome: Outcome
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            outcome = .answered(Int(response.status.code))
        } catch {
            outcome = .failed(Self.describe(error))
        }
        try? await owned?.shutdown()
        return outcome
    }

    /// The client settings for webhooks: no redirects, bounded connect and read; `dnsOverride` pins a checked address.
    static func configuration(timeout: TimeAmount, dnsOverride: [String: String] = [:]) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: timeout)
        )
        configuration.dnsOverride = dnsOverride
        return configuration
    }

    /// What went wrong on the wire, in a few words (never a URL's query or a body).
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            "timed out"
        case is HTTPClientError: "could not reach the endpoint"
        default: "could not reach the endpoint (\(type(of: error)))"
        }
    }
}
