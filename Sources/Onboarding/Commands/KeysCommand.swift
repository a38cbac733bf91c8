import Foundation
import OnboardCrypto

/// `square-onboard keys …`: encryption keys for the sealed tokens.
enum KeysCommand {
    static let usage = """
        Usage: square-onboard keys generate [--id KEY_ID]
          generate   print a new random AES-256 key as KEY_ID:base64 (default id: k + today's date),
                     ready for ONBOARD_ENCRYPTION_KEYS; put the new key first to make it the active one
        """

    static func run(arguments: [String]) throws {
        switch arguments.first {
        case "generate":
            Console.line(try generate(arguments: Array(arguments.dropFirst())))
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
}
