import Foundation
import Testing

@testable import OnboardCrypto

@Suite("HOTP and TOTP one-time passwords")
struct TOTPTests {
    /// The seeds of RFC 6238's reference implementation: the ASCII digits repeated to each digest's length.
    static let seeds: [TOTP.Algorithm: [UInt8]] = [
        .sha1: Array("12345678901234567890".utf8),
        .sha256: Array("12345678901234567890123456789012".utf8),
        .sha512: Array("1234567890123456789012345678901234567890123456789012345678901234".utf8),
    ]

    /// RFC 6238 Appendix B: Unix time and the 8-digit codes for SHA-1, SHA-256 and SHA-512.
    static let appendixB: [(time: TimeInterval, sha1: String, sha256: String, sha512: String)] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ]

    static func totp(_ algorithm: TOTP.Algorithm = .sha1, digits: Int = 6) throws -> TOTP {
        try TOTP(secret: seeds[algorithm]!, digits: digits, algorithm: algorithm)
    }

    @Test(arguments: 0..<6)
    func codesMatchRFC6238AppendixB(row: Int) throws {
        let vector = Self.appendixB[row]
        let date = Date(timeIntervalSince1970: vector.time)
        for (algorithm, expected) in [(TOTP.Algorithm.sha1, vector.sha1), (.sha256, vector.sha256), (.sha512, vector.sha512)] {
            let totp = try Self.totp(algorithm, digits: 8)
            #expect(totp.code(at: date) == expected, "\(algorithm) at \(vector.time)")
            #expect(totp.validate(expected, at: date, window: 0) == totp.step(at: date))
        }
    }

    /// RFC 4226 Appendix D: HOTP for counters 0–9 with the 20-byte ASCII secret.
    @Test func hotpMatchesRFC4226AppendixD() throws {
        let expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
        let hotp = try Self.totp()
        #expect((0..<10).map { hotp.code(step: $0) } == expected)
    }

    @Test func stepsAreWholePeriodsSince1970() throws {
        let totp = try Self.totp()
        #expect(totp.step(at: Date(timeIntervalSince1970: 0)) == 0)
        #expect(totp.step(at: Date(timeIntervalSince1970: 29.999)) == 0)
        #expect(totp.step(at: Date(timeIntervalSince1970: 30)) == 1)
        #expect(totp.step(at: Date(timeIntervalSince1970: 1_111_111_109)) == 0x23523EC)
        #expect(totp.step(at: Date(timeIntervalSince1970: -1)) == -1)
        let sixty = try TOTP(secret: Self.seeds[.sha1]!, period: 60)
        #expect(sixty.step(at: Date(timeIntervalSince1970: 119)) == 1)
    }

    @Test func theCodeOfThePreviousStepValidatesOnlyWithAWindow() throws {
        let totp = try Self.totp()
        let now = Date(timeIntervalSince1970: 1_700_000_015)
        let current = totp.step(at: now)
        let previous = totp.code(step: current - 1)
        #expect(totp.validate(previous, at: now, window: 1) == current - 1)
        #expect(totp.validate(previous, at: now, window: 0) == nil)
        #expect(totp.validate(totp.code(step: current + 1), at: now) == current + 1, "a phone clock a little ahead")
        #expect(totp.validate(totp.code(step: current - 2), at: now) == nil)
        #expect(totp.validate(totp.code(step: current - 2), at: now, window: 2) == current - 2)
        #expect(totp.validate(totp.code(at: now), at: now) == current)
    }

    @Test func aStepAlreadyUsedIsNotAcceptedAgain() throws {
        let totp = try Self.totp()
        let now = Date(timeIntervalSince1970: 1_700_000_015)
        let code = totp.code(at: now)
        let used = try #require(totp.validate(code, at: now))
        #expect(totp.validate(code, at: now, after: used) == nil)
        #expect(totp.validate(code, at: now.addingTimeInterval(30), after: used) == nil, "still inside the next step's window")
        #expect(totp.validate(totp.code(step: used - 1), at: now, after: used) == nil, "an older step neither")
        let next = totp.code(step: used + 1)
        #expect(totp.validate(next, at: now.addingTimeInterval(30), after: used) == used + 1)
    }

    @Test func wrongCodesAreRefused() throws {
        let totp = try Self.totp()
        let now = Date(timeIntervalSince1970: 1_700_000_015)
        let code = totp.code(at: now)
        let wrongDigit = String(code.dropLast()) + (code.last == "0" ? "1" : "0")
        let refused = [
            "", wrongDigit, String(code.dropLast()), code + "0", "0" + code, "12345a", "12345-", "+12345", "-12345",
            "١٢٣٤٥٦", "１２３４５６", "123456\n", "12345\u{0}6",
        ]
        for text in refused where text != code {
            #expect(totp.validate(text, at: now, window: 10) == nil, "\(text)")
        }
        let spaced = "\(code.prefix(3)) \(code.suffix(3))"
        #expect(totp.validate(spaced, at: now) == totp.step(at: now), "as apps show it: 123 456")
        let eightDigits = try Self.totp(digits: 8)
        #expect(eightDigits.validate(code, at: now) == nil)
    }

    @Test func codesKeepLeadingZeros() throws {
        let totp = try Self.totp(digits: 8)
        #expect(totp.code(at: Date(timeIntervalSince1970: 1_111_111_109)) == "07081804")
        let codes = (0..<2000).map { totp.code(step: $0) }
        #expect(codes.allSatisfy { $0.count == 8 })
        #expect(codes.contains { $0.hasPrefix("0") })
    }

    @Test func unsafeParametersAreRefused() {
        let secret = TOTP.generateSecret()
        #expect(throws: CryptoError.self) { try TOTP(secret: Array(secret.prefix(15))) }
        #expect(throws: CryptoError.self) { try TOTP(secret: secret, digits: 5) }
        #expect(throws: CryptoError.self) { try TOTP(secret: secret, digits: 9) }
        #expect(throws: CryptoError.self) { try TOTP(secret: secret, period: 0) }
        #expect(throws: Never.self) { try TOTP(secret: secret, digits: 8, period: 60, algorithm: .sha512) }
    }

    @Test func generatedSecretsAre160RandomBits() {
        let secrets = (0..<100).map { _ in TOTP.generateSecret() }
        #expect(secrets.allSatisfy { $0.count == 20 })
        #expect(Set(secrets).count == 100)
        #expect(Base32.encode(secrets[0]).count == 32)
        #expect(TOTP.generateSecret(byteCount: 64).count == 64)
    }

    @Test func otpauthURLCarriesTheBase32SecretAndParameters() throws {
        let totp = try Self.totp()
        #expect(
            totp.otpauthURL(issuer: "Square Onboard", account: "admin@example.com")
                == "otpauth://totp/Square%20Onboard:admin%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                + "&issuer=Square%20Onboard&algorithm=SHA1&digits=6&period=30"
        )
        let other = try TOTP(secret: Self.seeds[.sha256]!, digits: 8, period: 60, algorithm: .sha256)
        let url = other.otpauthURL(issuer: "Café: A&B", account: "ops+1 ü")
        #expect(url.hasPrefix("otpauth://totp/Caf%C3%A9%3A%20A%26B:ops%2B1%20%C3%BC?secret="))
        #expect(url.hasSuffix("&issuer=Caf%C3%A9%3A%20A%26B&algorithm=SHA256&digits=8&period=60"))
        let secret = url.split(separator: "secret=")[1].prefix { $0 != "&" }
        #expect(Base32.decode(secret) == Self.seeds[.sha256])
    }

    @Test func theSecretNeverAppearsInDescriptions() throws {
        let totp = try Self.totp()
        for text in ["\(totp)", String(reflecting: totp)] {
            #expect(!text.contains("49"), "no secret bytes")
            #expect(!text.contains("GEZDGNBV"))
            #expect(text.contains("SHA1"))
        }
    }
}
