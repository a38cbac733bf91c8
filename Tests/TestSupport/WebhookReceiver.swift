import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// A stand-in for an app's webhook endpoint on a free loopback port: records every request and answers scripted statuses.
public final class WebhookReceiver: Sendable {
    /// One request as the receiver saw it.
    public struct Received: Sendable {
        public var headers: HTTPFields
        public var body: [UInt8]
        /// When the request arrived.
        public var at = ContinuousClock.now

        public func header(_ name: String) -> String? { headers.first { $0.name.canonicalName == name.lowercased() }?.value }

        /// The body as a JSON object.
        public var json: [String: Any] {
            get throws {
                guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { throw ReceiverError.notAnObject }
                return object
            }
        }
    }

    /// Why the receiver could not do what a test asked.
    public enum ReceiverError: Error { case notAnObject, noPort }

    public static let defaultPath = "/webhooks/square"
    private let path: String
    private let state: Mutex<(received: [Received], statuses: [Int], holding: Bool)>

    /// Answers `statuses` in order, then 200; with `holdingAnswers`, answers nothing until `release()`.
    public init(statuses: [Int] = [], holdingAnswers: Bool = false, path: String = defaultPath) {
        state = Mutex(([], statuses, holdingAnswers))
        self.path = path
    }

    public var received: [Received] { state.withLock { $0.received } }

    /// Lets held requests (and later ones) be answered.
    public func release() { state.withLock { $0.holding = false } }

    /// Serves the receiver on a free loopback port for the duration of `body`, which gets the notification URL.
    public func run(_ body: @Sendable (_ notificationURL: String) async throws -> Void) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.post(RouterPath(path)) { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let status = self.state.withLock { state in
                state.received.append(Received(headers: request.headers, body: Array(buffer.readableBytesView)))
                return state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while self.state.withLock({ $0.holding }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            return Response(status: .init(code: status))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            defer { release() }
            guard let port = client.port else { throw ReceiverError.noPort }
            try await body("http://127.0.0.1:\(port)\(path)")
        }
    }
}
