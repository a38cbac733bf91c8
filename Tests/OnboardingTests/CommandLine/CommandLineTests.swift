import Foundation
import OnboardCrypto
import Testing

@testable import Onboarding
@testable import square_onboard

/// The built `square-onboard` as an operator meets it: `--help` everywhere, usage errors with status 64, other failures with 1.
@Suite("square-onboard command line")
struct CommandLineTests {
    /// A run with no configuration but PATH, in an empty folder (no `.env`).
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> BuiltExecutable.Run {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("so-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try BuiltExecutable.run(arguments, environment: environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }, in: folder)
    }

    @Test(arguments: [
        ([], ["demo", "serve", "refresh", "check-status", "keys", "emulator"]),
        (["--help"], ["demo", "serve", "refresh", "check-status", "keys", "emulator"]),
        (["help", "keys", "rotate"], ["--batch-size"]),
        (["demo", "--help"], ["--port", "--emulator-port", "--data-directory"]),
        (["serve", "--help"], ["--http-port", "--square-client-id", "SQUARE_CLIENT_ID", "--onboard-encryption-keys"]),
        (["refresh", "--help"], ["--all-due", "--merchant", "--data-directory", "--refresh-concurrency"]),
        (["check-status", "--help"], ["--merchant", "--data-directory", "--status-interval-hours"]),
        (["emulator", "--help"], ["--host", "--port", "--client-id", "--client-secret", "--redirect-url", "--webhook-url"]),
        (["keys", "--help"], ["generate", "rotate", "status"]),
        (["keys", "generate", "--help"], ["--id"]),
        (["keys", "rotate", "--help"], ["--batch-size", "--data-directory", "--onboard-encryption-keys"]),
        (["keys", "status", "--help"], ["--data-directory", "--onboard-encryption-keys"]),
    ])
    func helpWorksOnEveryVerbAndNamesItsOptions(arguments: [String], names: [String]) throws {
        let result = try run(arguments)
        #expect(result.exitCode == 0, "\(arguments): \(result.stderr)")
        #expect(result.stdout.contains("USAGE: square-onboard"))
        for name in names { #expect(result.stdout.contains(name), "\(arguments) --help names \(name)") }
    }

    @Test(arguments: [
        ["serve", "--help"], ["refresh", "--help"], ["check-status", "--help"], ["keys", "rotate", "--help"], ["keys", "status", "--help"],
    ])
    func theHelpOfCommandsWithSettingsListsEverySetting(arguments: [String]) throws {
        let help = try run(arguments).stdout
        for setting in Setting.all {
            #expect(help.contains("  \(setting.flag) <value>\n"), "\(arguments) lists \(setting.flag)")
            #expect(help.contains("  \(setting.environmentVariable); default: \(setting.defaultText)\n"))
        }
    }

    @Test func theOperationsGuideDocumentsEverySetting() throws {
        let guide = try String(contentsOfFile: BuiltExecutable.packageRoot + "/docs/operations.md", encoding: .utf8)
        for setting in Setting.all {
            let row = "| `\(setting.key)` | `\(setting.flag)` / `\(setting.environmentVariable)` | "
            #expect(guide.contains(row), "docs/operations.md's settings table has \(setting.key)")
        }
    }

    @Test(arguments: [
        (["keys", "rotate", "--bogus"], "'--bogus'", "Usage: square-onboard keys rotate"),
        (["serve", "--not-a-setting", "1"], "'--not-a-setting'", "Usage: square-onboard serve"),
        (["refresh", "--http-port"], "'--http-port <value>'", "Usage: square-onboard refresh"),
        (["refresh", "--merchant"], "--merchant", "Usage: square-onboard refresh"),
        (["check-status", "--merchant"], "--merchant", "Usage: square-onboard check-status"),
        (["demo", "--bogus"], "'--bogus'", "Usage: square-onboard demo"),
        (["keys", "generate", "--id", "has.dot"], "'--id'", "Usage: square-onboard keys generate"),
        (["keys", "rotate", "--batch-size", "zero"], "--batch-size", "Usage: square-onboard keys rotate"),
        (["emulator", "--port", "70000"], "'--port'", "Usage: square-onboard emulator"),
        (["frobnicate"], "frobnicate", "Usage: square-onboard"),
    ])
    func aUsageErrorNamesTheFlagShowsTheUsageAndExits64(arguments: [String], named: String, usage: String) throws {
        let result = try run(arguments)
        #expect(result.exitCode == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(named), "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(usage), "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func aBadValueIsQuotedInTheError() throws {
        let result = try run(["keys", "rotate", "--batch-size", "zero"])
        #expect(result.stderr.contains("'zero'") && result.stderr.contains("--batch-size"), "\(result.stderr)")
    }

    @Test func aFailureAfterParsingIsOneLineAndStatus1() throws {
        let result = try run(["serve", "--square-environment", "sandbox"])
        #expect(result.exitCode == 1)
        #expect(
            result.stderr
                == "square-onboard: missing square.clientId (--square-client-id or SQUARE_CLIENT_ID): your Square application's id (Developer Dashboard → OAuth)\n"
        )
    }

    @Test func settingFlagsReachTheConfigurationAndBeatTheEnvironment() throws {
        // Two keys in one flag: the comma separates keys, not flag values.
        let keys = [try KeyRing(keys: [("k1", .generate())]).serialized, try KeyRing(keys: [("k2", .generate())]).serialized]
        let result = try run(
            ["keys", "status", "--data-directory=/nonexistent/so-cli", "--onboard-encryption-keys", keys.joined(separator: ",")],
            environment: ["SQUARE_CLIENT_ID": "sandbox-sq0idb-cli", "DATA_DIRECTORY": "/elsewhere", "ONBOARD_ENCRYPTION_KEYS": "bad"]
        )
        #expect(result.exitCode == 1)
        #expect(
            result.stderr
                == "square-onboard: no database at /nonexistent/so-cli/square-onboard.sqlite; check data.directory (--data-directory or DATA_DIRECTORY)\n"
        )
    }

    @Test func aSettingValueOfTheWrongTypeIsNamed() throws {
        let result = try run(["serve", "--http-port", "eighty", "--square-client-id", "x"])
        #expect(result.exitCode == 1)
        #expect(result.stderr == "square-onboard: http.port (--http-port or HTTP_PORT) must be 0 to 65535\n")
    }

    @Test func settingFlagsAreParsedInProcessToo() throws {
        let flags = try SettingFlags.parse(["--http-port", "8081", "--square-client-id=abc", "--http-port", "8082"])
        #expect(try flags.values() == [Setting.httpPort: "8082", Setting.squareClientId: "abc"])
        #expect(throws: (any Error).self) { try SettingFlags.parse(["stray"]) }
    }
}
