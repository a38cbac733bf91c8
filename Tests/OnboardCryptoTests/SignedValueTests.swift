import OnboardCrypto
import Testing

/// `KeyRing.sign` / `verified`: values this service issued, told apart from planted or altered ones.
@Suite("Signed values")
struct SignedValueTests {
    @Test func aSignedValueVerifiesOnlyAsIssuedAndForItsPurpose() throws {
        let ring = try KeyRing(keys: [("k1", .generate())])
        let signed = ring.sign("token-123", purpose: "browser-binding")
        #expect(signed.hasPrefix("token-123.k1."))
        #expect(ring.verified(signed, purpose: "browser-binding") == "token-123")
        #expect(ring.verified(signed, purpose: "something-else") == nil)
        #expect(ring.verified("token-124" + signed.dropFirst(9), purpose: "browser-binding") == nil, "another value")
        var tampered = Array(signed)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == "A" ? "B" : "A"
        #expect(ring.verified(String(tampered), purpose: "browser-binding") == nil)
        for junk in ["token-123", "token-123.k1", "a.b.c.d", "token-123.k9." + signed.split(separator: ".")[2], ""] {
            #expect(ring.verified(junk, purpose: "browser-binding") == nil, "\(junk)")
        }
    }

    @Test func aValueSignedBeforeARotationStillVerifiesAndAnotherRingsDoesNot() throws {
        let old = try KeyRing(keys: [("k1", .generate())])
        let signed = old.sign("v", purpose: "p")
        let rotated = try KeyRing(parsing: try KeyRing(keys: [("k2", .generate())]).serialized + "," + old.serialized)
        #expect(rotated.verified(signed, purpose: "p") == "v")
        #expect(rotated.sign("v", purpose: "p").contains(".k2."))
        let stranger = try KeyRing(keys: [("k1", .generate())])
        #expect(stranger.verified(signed, purpose: "p") == nil)
    }
}
