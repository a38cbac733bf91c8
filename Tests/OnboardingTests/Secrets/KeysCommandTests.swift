import ArgumentParser
import OnboardCrypto
import Testing

@testable import square_onboard

@Suite("square-onboard keys generate")
struct KeysCommandTests {
    func generate(_ arguments: [String]) throws -> String {
        try KeysCommand.Generate.parse(arguments).generate()
    }

    @Test func aGeneratedKeyIsAcceptedAsTheServicesEncryptionKey() throws {
        let line = try generate(["--id", "prod-2026"])
        #expect(line.hasPrefix("prod-2026:"))
        let ring = try KeyRing(parsing: line)
        #expect(ring.activeKeyID == "prod-2026")
        let sealed = try ring.seal("EAAA-example", context: "test")
        #expect(try ring.openString(sealed, context: "test") == "EAAA-example")
        #expect(try generate(["--id", "prod-2026"]) != line, "every key is fresh")
    }

    @Test func theDefaultIdIsTodaysDate() throws {
        let ring = try KeyRing(parsing: try generate([]))
        #expect(ring.activeKeyID.count == 9 && ring.activeKeyID.hasPrefix("k2"))
    }

    @Test(arguments: [["--id"], ["--id", "has.dot"], ["--id", String(repeating: "a", count: 33)]])
    func badKeyIdsAreRejected(arguments: [String]) {
        let error = #expect(throws: (any Error).self) { try generate(arguments) }
        #expect(KeysCommand.Generate.message(for: error!).contains("--id"))
    }

    @Test(arguments: [["--batch-size", "0"], ["--batch-size", "10001"], ["--batch-size", "zero"]])
    func badBatchSizesAreRejectedNamingTheFlag(arguments: [String]) {
        let error = #expect(throws: (any Error).self) { try KeysCommand.Rotate.parse(arguments) }
        #expect(KeysCommand.Rotate.message(for: error!).contains("--batch-size"))
    }
}
