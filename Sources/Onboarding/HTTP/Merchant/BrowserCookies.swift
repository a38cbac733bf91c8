import Hummingbird
import OnboardCrypto

/// The service's cookies: `HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix outside loopback http.
struct BrowserCookies: Sendable {
    let secure: Bool
    /// Signs the browser-binding cookie, so a value this service did not issue is never kept.
    let keyRing: KeyRing
    static let bindingPurpose = "browser-binding"

    var csrf: String { name("so_csrf") }
    var binding: String { name("so_bind") }
    var session: String { name("so_session") }
    var adminSession: String { name("so_admin") }

    func make(_ name: String, value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// The browser-binding token inside a binding cookie this service signed; nil when missing, planted or tampered.
    func binding(in request: Request) -> String? {
        guard let raw = request.cookies[binding]?.value, raw.utf8.count <= 256,
            let token = keyRing.verified(raw, purpose: Self.bindingPurpose), token.utf8.count == 43
        else { return nil }
        return token
    }

    /// The token a binding cookie carries, signed or not, for matching a callback to the attempt it started.
    ///
    /// The signature matters only at Connect, where an unsigned value is replaced; at the callback a planted value
    /// simply matches no attempt, and a value signed under a key removed since then still finishes its own attempt.
    func bindingToken(in request: Request) -> String? {
        guard let raw = request.cookies[binding]?.value, raw.utf8.count <= 256,
            let token = raw.split(separator: ".", maxSplits: 1).first, token.utf8.count == 43
        else { return nil }
        return String(token)
    }

    /// The binding cookie for `token`, signed.
    func bindingCookie(_ token: String) -> Cookie {
        make(binding, value: keyRing.sign(token, purpose: Self.bindingPurpose), maxAge: 3600)
    }

    /// A cookie value this service could have set: base64url of 32 random bytes.
    func value(_ name: String, in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, value.utf8.count == 43, Base64URL.isAlphabet(value) else { return nil }
        return value
    }

    private func name(_ base: String) -> String { secure ? "__Host-" + base : base }
}
