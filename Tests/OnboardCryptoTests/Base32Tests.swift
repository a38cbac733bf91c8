import Testing

@testable import OnboardCrypto

@Suite("Base32 (RFC 4648)")
struct Base32Tests {
    /// RFC 4648 §10, with the padding our encoder leaves off.
    static let vectors = [
        ("", ""), ("f", "MY======"), ("fo", "MZXQ===="), ("foo", "MZXW6==="), ("foob", "MZXW6YQ="), ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI======"),
    ]

    @Test(arguments: vectors)
    func encodesAndDecodesRFC4648Vectors(plain: String, encoded: String) {
        let unpadded = encoded.replacingOccurrences(of: "=", with: "")
        #expect(Base32.encode(Array(plain.utf8)) == unpadded)
        #expect(Base32.decode(unpadded) == Array(plain.utf8))
        #expect(Base32.decode(encoded) == Array(plain.utf8), "padding is accepted")
    }

    @Test func decodingIgnoresCaseSpacesAndDashes() {
        let secret = Array("12345678901234567890".utf8)
        #expect(Base32.encode(secret) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        for typed in ["gezdgnbvgy3tqojqgezdgnbvgy3tqojq", "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", "gezd-gnbv-gy3t-qojq-GEZD-GNBV-GY3T-QOJQ"] {
            #expect(Base32.decode(typed) == secret, "\(typed)")
        }
    }

    @Test func randomBytesRoundTrip() {
        for length in 0..<64 {
            let bytes = SecureRandom.bytes(count: length)
            let encoded = Base32.encode(bytes)
            #expect(encoded.count == (length * 8 + 4) / 5)
            #expect(Base32.decode(encoded) == bytes)
            #expect(Base32.decode(encoded.lowercased()) == bytes)
        }
    }

    @Test(arguments: [
        "MZXW1", "MZXW8", "MZ+W", "MZXW6YQ=A", "M", "MZX", "MZXW6Y", "MZ_XW", "MÉXW", "MZ\u{0}",
        "MZ", "MZXR", "MZXW7", "MZXW6YR",
    ])
    func invalidTextIsRefused(text: String) {
        // Foreign characters, data after padding, lengths no bytes encode to, and non-zero leftover bits ("MZ" is "f" + 2 bits set).
        #expect(Base32.decode(text) == nil)
    }
}
