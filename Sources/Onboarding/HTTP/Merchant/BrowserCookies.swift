import Hummingbird

/// The service's cookies: `HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix outside loopback http.
struct BrowserCookies: Sendable {
    let secure: Bool

    var csrf: String { name("so_csrf") }
    var binding: String { name("so_bind") }
    var session: String { name("so_session") }

    func make(_ name: String, value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// A cookie value this service could have set: base64url of 32 random bytes.
    func value(_ name: String, in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, value.utf8.count == 43,
            value.utf8.allSatisfy({
                $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || ($0 < 128 && Character(UnicodeScalar($0)).isLetter)
                    || ($0 < 128 && Character(UnicodeScalar($0)).isNumber)
            })
        else { return nil }
        return value
    }

    private func name(_ base: String) -> String { secure ? "__Host-" + base : base }
}
