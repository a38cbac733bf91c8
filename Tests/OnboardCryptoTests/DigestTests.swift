import Testing

@testable import OnboardCrypto

@Suite("SHA-256, HMAC-SHA256 and constant-time comparison")
struct DigestTests {
    @Test func sha256OfAbcMatchesFIPS180Vector() {
        #expect(SHA256.hash("abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash("").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// RFC 4231 §4.2–4.8 (case 5, truncated output, does not apply to a full-length MAC).
    @Test(arguments: [
        (
            [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        (
            Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        (
            [UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        ),
        (
            Array(UInt8(1)...UInt8(25)), [UInt8](repeating: 0xcd, count: 50),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
        ),
        (
            [UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        (
            [UInt8](repeating: 0xaa, count: 131),
            Array(
                ("This is a test using a larger than block-size key and a larger than block-size data. "
                    + "The key needs to be hashed before being used by the HMAC algorithm.").utf8
            ),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ])
    func hmacMatchesRFC4231(key: [UInt8], data: [UInt8], expected: String) {
        #expect(HMACSHA256.authenticationCode(for: data, key: key).hex == expected)
    }

    @Test func hmacVerificationRejectsAnyChangedByte() {
        let key = Array("k".utf8)
        let message = Array("message".utf8)
        var mac = HMACSHA256.authenticationCode(for: message, key: key)
        #expect(HMACSHA256.isValid(mac, for: message, key: key))
        mac[31] ^= 0x01
        #expect(!HMACSHA256.isValid(mac, for: message, key: key))
        #expect(!HMACSHA256.isValid(mac.prefix(16), for: message, key: key))
    }

    @Test func constantTimeEqualityComparesContentAndLength() {
        #expect(ConstantTime.equals("secret", "secret"))
        #expect(!ConstantTime.equals("secret", "secreT"))
        #expect(!ConstantTime.equals("secret", "secret-longer"))
        #expect(ConstantTime.equals("", ""))
    }
}

/// The generic HMAC behind TOTP, on the first vectors of RFC 2202 (SHA-1) and RFC 4231 (SHA-512).
@Suite("HMAC over SHA-1 and SHA-512")
struct GenericHMACTests {
    @Test func hmacSHA1MatchesRFC2202CaseOne() {
        let mac = HMAC.authenticationCode(for: Array("Hi There".utf8), key: [UInt8](repeating: 0x0b, count: 20), digest: "SHA1", length: 20)
        #expect(mac.hex == "b617318655057264e28bc0b6fb378c8ef146be00")
    }

    @Test func hmacSHA512MatchesRFC4231CaseTwo() {
        let mac = HMAC.authenticationCode(
            for: Array("what do ya want for nothing?".utf8),
            key: Array("Jefe".utf8),
            digest: "SHA512",
            length: 64
        )
        #expect(
            mac.hex
                == "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        )
    }

    @Test func hmacSHA256AgreesWithTheDedicatedAPI() {
        let key = SecureRandom.bytes(count: 40)
        let message = SecureRandom.bytes(count: 100)
        #expect(
            HMAC.authenticationCode(for: message, key: key, digest: "SHA256", length: 32)
                == HMACSHA256.authenticationCode(for: message, key: key)
        )
    }
}
