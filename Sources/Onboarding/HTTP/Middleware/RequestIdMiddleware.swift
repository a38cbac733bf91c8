import HTTPTypes
import Hummingbird

/// Gives every request an id: a well-formed incoming `X-Request-Id` is kept, otherwise Hummingbird's own is used.
///
/// The id is in every log line of the request (as `hb.request.id`; `RequestScope` carries it to the lines of the Square
/// client and the domain services), in the `X-Request-Id` response header, and on
/// the internal-error page, so a support ticket, a proxy log and our log meet on one value.
struct RequestIdMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let incoming = request.headers[.requestId], Self.isWellFormed(incoming) {
            context.logger[metadataKey: "hb.request.id"] = .string(incoming)
        }
        let (id, identified) = (context.id, context)
        var response = try await RequestScope.$requestId.withValue(id) { try await next(request, identified) }
        response.headers[.requestId] = id
        return response
    }

    /// 1 to 128 of letters, digits, `-`, `_`, `.` and `:` — nothing a log line or header could be split on.
    static func isWellFormed(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x5F
                    || $0 == 0x2E || $0 == 0x3A
            }
    }
}

extension HTTPField.Name {
    static let requestId = Self("X-Request-Id")!
}
