import Configuration
import Foundation
import OnboardCrypto

/// `square-onboard keys …`: encryption keys for the sealed tokens.
enum KeysCommand {
    static let usage = """
        Usage: square-onboard keys generate [--id KEY_ID]
               square-onboard keys rotate [--batch-size N] [configuration flags as for serve]
               square-onboard keys status [configuration flags as for serve]
          generate   print a new random AES-256 key as KEY_ID:base64 (default id: k + today's date),
                     ready for ONBOARD_ENCRYPTION_KEYS; put the new key first to make it the active one
          rotate     re-seal every stored token and verifier that is not under the active (first) key,
                     N rows per transaction (default 200); safe while the service runs; exits 1 if a
                     value cannot be opened with any configured key (it is left unchanged and named)
          status     count the sealed values per column and key id, to check before removing a key
        """

    static let defaultBatchSize = 200

    /// Runs `keys generate|rotate|status`.
    static func run(arguments: [String]) async throws {
        let rest = Array(arguments.dropFirst())
        switch arguments.first {
        case "generate":
            Console.line(try generate(arguments: rest))
        case "rotate":
            try await rotate(arguments: rest)
        case "status":
            try await status(arguments: rest)
        case "--help", "-h", "help", nil:
            Console.line(usage)
        case let other?:
            throw CommandError.unknownCommand("keys \(other)")
        }
    }

    /// A new key as `id:base64`, the format `onboard.encryptionKeys` reads.
    static func generate(arguments: [String]) throws -> String {
        try KeyRing(keys: [(try keyID(arguments: arguments), .generate())]).serialized
    }

    /// The `--id` flag, or `kYYYYMMDD` for today.
    static func keyID(arguments: [String]) throws -> String {
        if let index = arguments.firstIndex(of: "--id") {
            guard index + 1 < arguments.count, KeyRing.isValidKeyID(Substring(arguments[index + 1])) else {
                throw CommandError.invalidValue(key: "--id", reason: "must be 1 to 32 letters, digits, '-' or '_'")
            }
            return arguments[index + 1]
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd"
        return "k" + formatter.string(from: Date())
    }

    /// `keys rotate`: progress per batch on stderr, the summary on stdout; throws when a value could not be opened.
    static func rotate(arguments: [String]) async throws {
        let batchSize = try batchSize(arguments: arguments)
        let configuration = try await configuration(arguments: arguments)
        let rotation = KeyRotation(
            store: try openExistingDatabase(configuration),
            keyRing: configuration.keyRing,
            batchSize: batchSize
        )
        let report = try await rotation.run { Console.error($0.line) }
        for line in report.summary { Console.line(line) }
        guard report.succeeded else { throw KeyRotationError.unreadableValues(report.unreadable.count) }
    }

    /// `keys status`: counts per column and key id.
    static func status(arguments: [String]) async throws {
        let configuration = try await configuration(arguments: arguments)
        let rotation = KeyRotation(store: try openExistingDatabase(configuration), keyRing: configuration.keyRing)
        for line in try await rotation.census().lines { Console.line(line) }
    }

    /// The `--batch-size` flag: 1 to 10000 rows per write transaction.
    static func batchSize(arguments: [String]) throws -> Int {
        let flags = ConfigReader(provider: CommandLineArgumentsProvider(arguments: ["keys"] + arguments))
        guard let text = flags.string(forKey: "batchSize") else { return defaultBatchSize }
        guard let size = Int(text), (1...10_000).contains(size) else {
            throw CommandError.invalidValue(key: "--batch-size", reason: "must be a whole number from 1 to 10000")
        }
        return size
    }

    /// The same configuration `serve` reads: flags, environment, `.env`.
    static func configuration(arguments: [String]) async throws -> AppConfiguration {
        try AppConfiguration(reader: try await AppConfiguration.standardReader(arguments: ["keys"] + arguments))
    }

    /// The service's database; a missing file means a wrong `data.directory`, not an empty database to create.
    static func openExistingDatabase(_ configuration: AppConfiguration) throws -> AppDatabase {
        guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
            throw KeyRotationError.noDatabase(path: configuration.databasePath)
        }
        return try AppDatabase.open(path: configuration.databasePath)
    }
}

/// Why `keys rotate` or `keys status` ends with status 1.
enum KeyRotationError: Error, CustomStringConvertible {
    case unreadableValues(Int)
    case noDatabase(path: String)

    var description: String {
        switch self {
        case .unreadableValues(let count):
            "\(count) sealed value(s) could not be opened with any configured key and were left unchanged (rows named above)"
        case .noDatabase(let path): "no database at \(path); check data.directory (--data-directory or DATA_DIRECTORY)"
        }
    }
}
