import Testing

@testable import OnboardCrypto

@Suite("scrypt password hashing")
struct PasswordHashTests {
    @Test func scryptMatchesRFC7914Vector() throws {
        let derived = try PasswordHash.scrypt(
            password: Array("password".utf8),
            salt: Array("NaCl".utf8),
            parameters: .init(logN: 10, r: 8, p: 16)
        )
        // The first 32 bytes of RFC 7914 §12's 64-byte output (PBKDF2 blocks are independent of dkLen).
        #expect(derived.hex == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162")
    }

    @Test func hashVerifiesOnlyTheRightPassword() throws {
        let stored = try PasswordHash.hash("correct horse", parameters: .testing)
        #expect(stored.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(!stored.contains("correct"))
        #expect(try PasswordHash.verify("correct horse", against: stored))
        #expect(try !PasswordHash.verify("correct hors", against: stored))
        #expect(try !PasswordHash.verify("", against: stored))
        #expect(try PasswordHash.hash("correct horse", parameters: .testing) != stored, "salts differ")
    }

    @Test(arguments: [
        "", "$scrypt$", "$bcrypt$ln=10,r=8,p=1$AAAA$AAAA", "$scrypt$ln=99,r=8,p=1$AAAA$AAAA",
        "$scrypt$ln=10,r=8,p=1$AAAA$AAAA",
    ])
    func malformedHashesThrow(stored: String) {
        #expect(throws: CryptoError.malformedPasswordHash) { try PasswordHash.verify("x", against: stored) }
    }
}
