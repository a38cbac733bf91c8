import Foundation
import Hummingbird

/// Bounds a partner API request before any operation reads it: at most 64 KiB of body, and a body only as JSON.
struct PartnerRequestLimits<Context: RequestContext>: RouterMiddleware {
    static var maximumBodyBytes: Int { 64 * 1024 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maximumBodyBytes {
            throw HTTPError(.contentTooLarge)
        }
        // Read now, so an oversized chunked body is refused here and later readers get the bytes again.
        let body = try await request.collectBody(upTo: Self.maximumBodyBytes)
        if body.readableBytes > 0 {
            // The media type alone, without parameters (`; charset=utf-8`): `application/jsonx` is not JSON.
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard type == "application/json" else {
                return PartnerAPIErrors.answer(.unsupportedMediaType, code: "unsupported_media_type", message: "send the body as application/json")
            }
        } else if request.method == .post {
            // A POST without a body means "no options"; the generated decoder would read the empty body as bad JSON.
            var head = request.head
            head.headerFields[.contentType] = "application/json"
            request = Request(head: head, body: .init(buffer: ByteBuffer(string: "{}")))
        }
        return try await next(request, context)
    }
}
