import Foundation
import Testing

@testable import OnboardCrypto

@Suite("PKCE code verifiers and S256 challenges")
struct PKCETests {
    @Test func challengeMatchesRFC7636AppendixB() throws {
        let verifier = try CodeVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(verifier.codeChallenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    @Test func generatedVerifiersAreLongUnreservedAndUnique() throws {
        let verifiers = (0..<200).map { _ in CodeVerifier() }
        #expect(Set(verifiers.map(\.value)).count == 200)
        for verifier in verifiers {
            #expect(verifier.value.count == 43)
            #expect(try CodeVerifier(verifier.value) == verifier)
            #expect(verifier.codeChallenge.count == 43)
            #expect(!verifier.codeChallenge.contains("="))
        }
    }

    @Test(arguments: [
        String(repeating: "a", count: 42),
        String(repeating: "a", count: 129),
        String(repeating: "a", count: 42) + "+",
        String(repeating: "a", count: 42) + "=",
        String(repeating: "a", count: 42) + " ",
        String(repeating: "é", count: 43),
    ])
    func invalidVerifiersAreRejected(text: String) {
        #expect(throws: CryptoError.self) { try CodeVerifier(text) }
    }

    @Test func verifierNeverAppearsInItsDescription() {
        let verifier = CodeVerifier()
        #expect(!"\(verifier)".contains(verifier.value))
        #expect(!String(reflecting: verifier).contains(verifier.value))
    }

    @Test func base64URLRoundTripsAndRejectsForeignAlphabet() {
        for length in 0..<40 {
            let bytes = SecureRandom.bytes(count: length)
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("abcde") == nil)
    }

    @Test func base64URLMatchesRFC4648AndFoundation() {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        for length in 0..<70 {
            let bytes = SecureRandom.bytes(count: length)
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == foundation)
        }
        #expect(Base64URL.decode("Zg==") == nil, "no padding")
        #expect(Base64URL.decode("Zm9v\n") == nil)
        #expect(Base64URL.decode("Zm9vé") == nil)
    }

    @Test func randomTokensUseOnlyTheirAlphabet() {
        let alphabet = Array("ABCDEFGHJKMNPQRSTVWXYZ0123456789")
        let token = SecureRandom.token(length: 500, alphabet: alphabet)
        #expect(token.count == 500)
        #expect(token.allSatisfy { alphabet.contains($0) })
        #expect(Set(token).count > 20)
    }
}
