import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OnboardCrypto

/// Honours `Idempotency-Key` on the partner API's POSTs: a retry of the same request gets the first answer again.
///
/// The first answer is kept 24 hours (the retention sweep) unless it was a server error, so a retry after one runs
/// again. An answer that carries a token (the access-token operation) is never kept: a retry runs again and gets a
/// token at least as fresh, which is safe because asking for a token changes nothing a retry could double. Which
/// operation a request is comes from the route the router matched, never from the raw path (`/access-token/` and
/// `//` reach the same route). Two requests are the same when their route, path parameters and JSON meaning match:
/// keys in another order or other whitespace do not make another request.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = PartnerRequestContext
    static let header = HTTPField.Name("Idempotency-Key")!
    let store: any IdempotencyStore
    let clock: AppClock
    /// The matched routes (as the router names them, `context.endpointPath`) whose answers hold secrets.
    let unkeptEndpoints: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[Self.header] else { return try await next(request, context) }
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw PartnerError.invalidField(field: "Idempotency-Key", reason: "1 to 255 visible ASCII characters")
        }
        // The group's middleware runs after the router matched the route, so the route is known here.
        guard let endpoint = context.endpointPath, !unkeptEndpoints.contains(endpoint) else { return try await next(request, context) }
        let partnerId = context.caller.partner.id
        var request = request
        let body = try await request.collectBody(upTo: PartnerRequestLimits<Context>.maximumBodyBytes)
        let requestHash = Self.requestHash(method: request.method, path: request.uri.path, body: body)
        let logger = context.logger
        if let kept = try await storingPartner(
            "reading an idempotency key",
            logger: logger,
            { try await store.idempotentAnswer(partnerId: partnerId, key: key) }
        ) {
            return try replay(kept, requestHash: requestHash)
        }
        let response = try await next(request, context)
        guard response.status.code < 500 else { return response }
        var kept = response
        let collector = CollectingWriter()
        try await response.body.write(collector)
        let collected = collector.buffer
        let answer = IdempotencyKeyRecord(
            partnerId: partnerId,
            key: key,
            requestHash: requestHash,
            status: Int(response.status.code),
            body: String(buffer: collected),
            createdAt: clock.now()
        )
        let first = try await storingPartner("keeping an idempotent answer", logger: logger) { try await store.keepIdempotentAnswer(answer) }
        // Another request with the same key finished first: its answer is the one every retry gets.
        guard first == answer else { return try replay(first, requestHash: requestHash) }
        kept.body = .init(byteBuffer: collected)
        return kept
    }

    /// What makes two requests the same: method, path without empty segments, and the body's JSON in canonical form
    /// (sorted keys, no whitespace); a body that is not JSON counts byte for byte.
    static func requestHash(method: HTTPRequest.Method, path: String, body: ByteBuffer) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        var canonical = String(buffer: body)
        if let value = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        {
            canonical = String(decoding: data, as: UTF8.self)
        }
        return sha256Hex("\(method.rawValue) /\(segments)\n" + canonical)
    }

    private func replay(_ kept: IdempotencyKeyRecord, requestHash: String) throws -> Response {
        guard ConstantTime.equals(kept.requestHash, requestHash) else { throw PartnerError.idempotencyKeyReused }
        return Response(
            status: .init(code: kept.status),
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("Idempotent-Replayed")!: "true"],
            body: .init(byteBuffer: ByteBuffer(string: kept.body))
        )
    }
}

/// Collects a response body written through Hummingbird's writer interface.
private final class CollectingWriter: ResponseBodyWriter {
    private(set) var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        self.buffer.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
