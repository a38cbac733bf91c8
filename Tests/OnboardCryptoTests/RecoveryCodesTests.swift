import Testing

@testable import OnboardCrypto

@Suite("Recovery codes")
struct RecoveryCodesTests {
    @Test func codesAreThreeGroupsOfFourFromTheAlphabet() {
        let codes = RecoveryCodes.generate()
        #expect(codes.count == 10)
        for code in codes {
            let groups = code.split(separator: "-", omittingEmptySubsequences: false)
            #expect(groups.count == 3 && groups.allSatisfy { $0.count == 4 }, "\(code)")
            #expect(code.replacingOccurrences(of: "-", with: "").allSatisfy { RecoveryCodes.alphabet.contains($0) })
            #expect(RecoveryCodes.normalized(code) == code, "a generated code is already canonical")
        }
    }

    @Test func theAlphabetHas32UnambiguousSymbolsSoACodeCarries60Bits() {
        #expect(RecoveryCodes.alphabet.count == 32)
        #expect(Set(RecoveryCodes.alphabet).count == 32)
        #expect(!RecoveryCodes.alphabet.contains { "ilou".contains($0) })
        #expect(RecoveryCodes.length * 5 >= 60)
    }

    @Test func manyCodesAreUniqueAndUseTheWholeAlphabet() {
        let codes = RecoveryCodes.generate(count: 5000)
        #expect(Set(codes).count == 5000)
        let symbols = codes.joined().filter { $0 != "-" }
        #expect(Set(symbols) == Set(RecoveryCodes.alphabet))
        #expect(RecoveryCodes.generate(count: 0).isEmpty)
    }

    @Test(arguments: [
        ("ab12-cd34-ef56", "ab12-cd34-ef56"),
        ("AB12-CD34-EF56", "ab12-cd34-ef56"),
        ("ab12cd34ef56", "ab12-cd34-ef56"),
        ("  ab12 cd34 ef56 ", "ab12-cd34-ef56"),
        ("ab-12-cd--34ef 56", "ab12-cd34-ef56"),
        ("AB12 CD34 EF5O", "ab12-cd34-ef50"),
        ("ABI2-CDL4-EF56", "ab12-cd14-ef56"),
    ])
    func typedCodesNormalizeToTheCanonicalForm(typed: String, canonical: String) {
        #expect(RecoveryCodes.normalized(typed) == canonical)
    }

    @Test(arguments: [
        "", "ab12-cd34-ef5", "ab12-cd34-ef567", "ab12-cd34-ef5u", "ab12-cd34-ef5!", "ab12_cd34_ef56", "ab12-cd34-ef5é",
        "ab12-cd34-ef56-ab12-cd34-ef56", String(repeating: "a", count: 10_000),
    ])
    func textThatCannotBeACodeIsRefused(typed: String) {
        #expect(RecoveryCodes.normalized(typed) == nil)
    }
}
