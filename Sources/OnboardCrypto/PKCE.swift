/// A PKCE code verifier (RFC 7636 §4.1): 43–128 characters from the unreserved set.
public struct CodeVerifier: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The verifier text; a secret until the token exchange.
    public let value: String

    /// A fresh verifier carrying 32 random bytes (43 base64url characters).
    public init() {
        self.value = SecureRandom.urlSafeToken(byteCount: 32)
    }

    /// Validates an existing verifier.
    public init(_ value: String) throws {
        guard (43...128).contains(value.utf8.count) else {
            throw CryptoError.invalidCodeVerifier(reason: "length must be 43 to 128 characters")
        }
        guard value.utf8.allSatisfy(Self.isUnreserved) else {
            throw CryptoError.invalidCodeVerifier(reason: "only A-Z a-z 0-9 - . _ ~ are allowed")
        }
        self.value = value
    }

    /// The S256 challenge: base64url-no-padding of SHA-256 over the verifier's ASCII bytes.
    public var codeChallenge: String { Self.challenge(for: value) }

    /// The S256 challenge of any verifier text.
    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(Array(verifier.utf8)))
    }

    public var description: String { "CodeVerifier(<redacted>)" }
    public var debugDescription: String { description }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
