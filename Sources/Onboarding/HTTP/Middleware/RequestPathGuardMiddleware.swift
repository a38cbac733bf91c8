import Hummingbird

/// Refuses, before anything else runs, a request whose path holds a control character, raw or percent-encoded.
///
/// No page of ours has one in its address, and decoded they reach file lookups (`%00` ends a C string), log lines
/// and `Location` headers. The answer is the 400 page with the security headers; nothing after this middleware runs.
struct RequestPathGuardMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: PageRenderer
    let securityHeaders: SecurityHeadersMiddleware

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard Self.hasControlCharacter(path) else { return try await next(request, context) }
        context.logger.warning(
            "\(request.method) refused: control character in the path",
            metadata: ["path": .string(Self.printable(path))]
        )
        var response =
            path.hasPrefix(PartnerAPIRealm.prefix + "/")
            ? PartnerAPIErrors.answer(.badRequest, code: "invalid_request", message: "the path holds characters no endpoint uses")
            : pages.error(.invalidAddress)
        securityHeaders.apply(to: &response, path: path)
        return response
    }

    /// True if `path` holds a byte 0x00–0x1F or 0x7F, as is or percent-encoded (`%00`–`%1F`, `%7F`, either case).
    static func hasControlCharacter(_ path: String) -> Bool {
        let bytes = Array(path.utf8)
        for (index, byte) in bytes.enumerated() {
            if isControl(byte) || byte >= 0x80 { return true }
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]), isControl(high << 4 | low)
            {
                return true
            }
        }
        return false
    }

    /// The path with every raw control or non-ASCII byte percent-encoded and cut to 200 bytes, safe for a log line.
    static func printable(_ path: String) -> String {
        var text = ""
        for byte in path.utf8.prefix(200) {
            if isControl(byte) || byte >= 0x80 {
                text += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return text
    }

    private static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
