import ArgumentParser
import Foundation
import OnboardCrypto
import Onboarding

/// `square-onboard keys …`: the encryption keys that seal stored tokens.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate, rotate and count the encryption keys that seal stored tokens.",
        subcommands: [Generate.self, Rotate.self, Status.self]
    )

    /// `keys generate`: a new key for `onboard.encryptionKeys`.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random AES-256 key as KEY_ID:base64, ready for ONBOARD_ENCRYPTION_KEYS.",
            discussion: "Put the new key first in ONBOARD_ENCRYPTION_KEYS to make it the active one."
        )

        @Option(help: ArgumentHelp("The key id: 1 to 32 letters, digits, '-' or '_' (default: k + today's date).", valueName: "key-id"))
        var id: String?

        func validate() throws {
            if let id, !KeyRing.isValidKeyID(Substring(id)) {
                throw ValidationError("'--id' must be 1 to 32 letters, digits, '-' or '_'")
            }
        }

        func run() throws {
            Console.line(try generate())
        }

        /// A new key as `id:base64`, the format `onboard.encryptionKeys` reads.
        func generate() throws -> String {
            try KeyRing(keys: [(id ?? Self.todaysKeyID(), .generate())]).serialized
        }

        /// `kYYYYMMDD` for today, in UTC.
        static func todaysKeyID() -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd"
            return "k" + formatter.string(from: Date())
        }
    }

    /// `keys rotate`: re-seals stored secrets under the active key.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every stored token and verifier that is not under the active (first) key.",
            discussion: """
                Reads the same settings as 'serve'. Safe while the service runs: each batch is one write transaction, \
                and a row changed meanwhile is skipped (a second run picks it up). Progress goes to stderr, the summary \
                to stdout. Exit status 1 when a value cannot be opened with any configured key (it is left unchanged \
                and named by table, column and row).
                """ + "\n\n" + SettingFlags.help
        )

        @Option(help: ArgumentHelp("Rows per write transaction, 1 to 10000.", valueName: "n"))
        var batchSize = 200

        @OptionGroup var settings: SettingFlags

        func validate() throws {
            guard (1...10_000).contains(batchSize) else {
                throw ValidationError("'--batch-size' must be a whole number from 1 to 10000")
            }
        }

        func run() async throws {
            let display = ProgressDisplay(unit: "sealed values")
            defer { display.finish() }
            try await KeyOperations.rotate(
                configuration: try await settings.configuration(),
                batchSize: batchSize,
                output: { line in
                    display.finish()
                    Console.line(line)
                },
                progress: display.update
            )
        }
    }

    /// `keys status`: counts per column and key id.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count the sealed values per column and key id, to check before removing a key.",
            discussion: "Reads the same settings as 'serve' and changes nothing.\n\n" + SettingFlags.help
        )

        @OptionGroup var settings: SettingFlags

        func run() async throws {
            try await KeyOperations.status(configuration: try await settings.configuration(), output: Console.line)
        }
    }
}
