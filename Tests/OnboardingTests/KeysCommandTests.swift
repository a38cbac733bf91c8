import Configuration
import OnboardCrypto
import Testing

@testable import Onboarding

@Suite("square-onboard keys generate")
struct KeysCommandTests {
    @Test func aGeneratedKeyIsAcceptedAsTheServicesEncryptionKey() throws {
        let line = try KeysCommand.generate(arguments: ["--id", "prod-2026"])
        #expect(line.hasPrefix("prod-2026:"))
        let ring = try KeyRing(parsing: line)
        #expect(ring.activeKeyID == "prod-2026")
        let sealed = try ring.seal("EAAA-example", context: "test")
        #expect(try ring.openString(sealed, context: "test") == "EAAA-example")
        #expect(try KeysCommand.generate(arguments: ["--id", "prod-2026"]) != line, "every key is fresh")
    }

    @Test func theDefaultIdIsTodaysDate() throws {
        let ring = try KeyRing(parsing: try KeysCommand.generate(arguments: []))
        #expect(ring.activeKeyID.count == 9 && ring.activeKeyID.hasPrefix("k2"))
    }

    @Test(arguments: [["--id"], ["--id", "has.dot"], ["--id", String(repeating: "a", count: 33)]])
    func badKeyIdsAreRejected(arguments: [String]) {
        #expect(throws: CommandError.self) { try KeysCommand.generate(arguments: arguments) }
    }
}
