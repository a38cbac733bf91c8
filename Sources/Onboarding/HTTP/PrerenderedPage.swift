import Hummingbird
import OnboardCrypto

/// A page rendered once whose only per-request value is a token: the bytes around it are kept, the token spliced in.
///
/// The busiest page (the connect page, a CSRF token per visitor) then costs a copy instead of a Mustache render.
struct PrerenderedPage: Sendable {
    /// The rendered page cut at every place the token goes.
    let pieces: [ByteBuffer]
    let status: HTTPResponse.Status

    /// Renders `template` once with `model`, whose token field holds `marker`, and cuts the page at each marker.
    init(renderer: PageRenderer, template: String, model: Any, marker: String, status: HTTPResponse.Status = .ok) {
        let html = renderer.render(template, model)
        pieces = html.split(separator: marker, omittingEmptySubsequences: false).map { ByteBuffer(substring: $0) }
        self.status = status
    }

    /// How many times the token appears on the page.
    var tokenCount: Int { pieces.count - 1 }

    /// The page with `token` at each marker; the token must be Base64URL, which HTML shows as it is (nothing to escape).
    func response(token: String) -> Response {
        precondition(Base64URL.isAlphabet(token), "a spliced token must be Base64URL")
        var body = ByteBuffer()
        body.reserveCapacity(pieces.reduce(0) { $0 + $1.readableBytes } + tokenCount * token.utf8.count)
        for (index, piece) in pieces.enumerated() {
            if index > 0 { body.writeString(token) }
            body.writeImmutableBuffer(piece)
        }
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: body))
    }
}
