import Testing

@testable import OnboardCrypto

@Suite("AES-256-GCM, sealed boxes and key rings")
struct AESGCMTests {
    /// Test cases 13–16 of the GCM specification (McGrew & Viega), the AES-256 vectors NIST's CAVP mirrors.
    static let vectors: [(key: String, iv: String, plaintext: String, aad: String, ciphertext: String, tag: String)] = [
        (
            String(repeating: "00", count: 32), String(repeating: "00", count: 12), "", "", "",
            "530f8afbc74536b9a963b4f1c4cb738b"
        ),
        (
            String(repeating: "00", count: 32), String(repeating: "00", count: 12), String(repeating: "00", count: 16), "",
            "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"
        ),
        (
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            "",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            "b094dac5d93471bdec1a502270e3cc6c"
        ),
        (
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"
        ),
    ]

    @Test(arguments: 0..<4)
    func sealAndOpenMatchGCMSpecVectors(index: Int) throws {
        let vector = Self.vectors[index]
        let key = try SymmetricKey(bytes: [UInt8](hex: vector.key))
        let sealed = try AESGCM.seal(
            [UInt8](hex: vector.plaintext),
            key: key,
            nonce: [UInt8](hex: vector.iv),
            associatedData: [UInt8](hex: vector.aad)
        )
        #expect(sealed.ciphertext.hex == vector.ciphertext)
        #expect(sealed.tag.hex == vector.tag)
        let opened = try AESGCM.open(
            ciphertext: [UInt8](hex: vector.ciphertext),
            tag: [UInt8](hex: vector.tag),
            key: key,
            nonce: [UInt8](hex: vector.iv),
            associatedData: [UInt8](hex: vector.aad)
        )
        #expect(opened.hex == vector.plaintext)
    }

    @Test func keysMustBe32Bytes() {
        #expect(throws: CryptoError.invalidKeyLength(16)) { try SymmetricKey(bytes: [UInt8](repeating: 1, count: 16)) }
        #expect(!"\(SymmetricKey.generate())".contains("="))
    }

    @Test func sealedBoxRoundTripsAndNamesItsKey() throws {
        let ring = try KeyRing(keys: [("k1", .generate())])
        let stored = try ring.seal("EAAA-access-token", context: "connection.accessToken")
        #expect(stored.hasPrefix("sb1.k1."))
        #expect(!stored.contains("EAAA"))
        #expect(try ring.openString(stored, context: "connection.accessToken") == "EAAA-access-token")
        #expect(try ring.seal("same") != ring.seal("same"), "every seal uses a fresh nonce")
    }

    @Test func wrongKeyIsRejected() throws {
        let stored = try KeyRing(keys: [("k1", .generate())]).seal("token")
        let other = try KeyRing(keys: [("k1", .generate())])
        #expect(throws: CryptoError.authenticationFailed) { try other.openString(stored) }
        let unrelated = try KeyRing(keys: [("k2", .generate())])
        #expect(throws: CryptoError.unknownKeyID("k1")) { try unrelated.openString(stored) }
    }

    @Test func everyFlippedBitIsRejected() throws {
        let ring = try KeyRing(keys: [("k1", .generate())])
        let box = try ring.seal(Array("refresh-token".utf8))
        let payload = Base64URL.decode(box.serialized.split(separator: ".")[2])!
        for byteIndex in payload.indices {
            var tampered = payload
            tampered[byteIndex] ^= 0x80
            let text = "sb1.k1.\(Base64URL.encode(tampered))"
            #expect(throws: CryptoError.authenticationFailed) { try ring.open(SealedBox(serialized: text)) }
        }
    }

    @Test func wrongContextIsRejected() throws {
        let ring = try KeyRing(keys: [("k1", .generate())])
        let stored = try ring.seal("token", context: "merchant-A")
        #expect(throws: CryptoError.authenticationFailed) { try ring.openString(stored, context: "merchant-B") }
    }

    @Test func truncatedOrMalformedBoxesAreRejected() throws {
        let ring = try KeyRing(keys: [("k1", .generate())])
        let stored = try ring.seal("token")
        for cut in [1, 5, 20, stored.count - 8] {
            #expect(throws: CryptoError.self) { try ring.openString(String(stored.dropLast(cut))) }
        }
        for bad in ["", "sb1.k1", "sb2.k1.AAAA", "sb1..AAAA", "sb1.k1.@@@", "sb1.k1.\(Base64URL.encode([1, 2, 3]))"] {
            #expect(throws: CryptoError.malformedSealedBox) { try SealedBox(serialized: bad) }
        }
    }

    @Test func keyRingParsesConfigurationAndOpensWithOldKeys() throws {
        let old = SymmetricKey.generate()
        let new = SymmetricKey.generate()
        let oldRing = try KeyRing(parsing: "old:\(old.base64)")
        let stored = try oldRing.seal("token")
        let rotated = try KeyRing(parsing: " new:\(new.base64) , old:\(old.base64)")
        #expect(rotated.activeKeyID == "new")
        #expect(try rotated.openString(stored) == "token")
        #expect(try rotated.needsResealing(stored))
        #expect(try !rotated.needsResealing(rotated.seal("token")))
        #expect(try KeyRing(parsing: rotated.serialized).keyIDs == ["new", "old"])
        #expect(!rotated.description.contains(new.base64))
    }

    @Test(arguments: ["", "nokey", "k1:notbase64!", "k1:AAAA", "a.b:\(SymmetricKey.generate().base64)"])
    func invalidKeyListsAreRejected(text: String) {
        #expect(throws: CryptoError.self) { try KeyRing(parsing: text) }
    }

    @Test func duplicateKeyIDsAreRejected() {
        let key = SymmetricKey.generate().base64
        #expect(throws: CryptoError.self) { try KeyRing(parsing: "a:\(key),a:\(key)") }
    }
}
