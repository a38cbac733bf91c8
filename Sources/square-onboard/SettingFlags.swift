import ArgumentParser
import OnboardCrypto
import Onboarding

/// The service settings a command takes as `--flag value` or `--flag=value`, checked against `Setting.all`:
/// a flag that names no setting, or a setting without a value, is a usage error that names it.
struct SettingFlags: ParsableArguments {
    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("Service settings as '--flag value' (listed under SETTINGS below).", valueName: "--setting value")
    )
    var arguments: [String] = []

    mutating func validate() throws {
        _ = try values()
    }

    /// The settings given and their values; a setting given twice keeps the last value.
    func values() throws -> [Setting: String] {
        var values: [Setting: String] = [:]
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            guard argument.hasPrefix("-") else { throw ValidationError("Unexpected argument '\(argument)'") }
            let (flag, inlineValue) = Self.split(argument)
            guard let setting = Setting.named(flag: flag) else {
                throw ValidationError("Unknown option '\(flag)' (not a setting either; --help lists them under SETTINGS)")
            }
            if let inlineValue {
                values[setting] = inlineValue
            } else if let next = remaining.first, !next.hasPrefix("--") {
                values[setting] = remaining.removeFirst()
            } else {
                throw ValidationError("Missing value for '\(flag) <value>'")
            }
        }
        return values
    }

    /// The service's configuration: these flags, then the environment, then `.env`.
    func configuration() async throws -> AppConfiguration {
        try AppConfiguration(reader: try await AppConfiguration.standardReader(flags: try values()))
    }

    /// The database path and encryption keys from these flags, the environment and `.env` (the partner commands).
    func storeLocation() async throws -> (databasePath: String, keyRing: KeyRing) {
        try AppConfiguration.storeLocation(reader: try await AppConfiguration.standardReader(flags: try values()))
    }

    /// `--key=value` → (`--key`, `value`); `--key` → (`--key`, nil).
    static func split(_ argument: String) -> (flag: String, value: String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// The SETTINGS section of the help of each command that takes settings, from the one table.
    static let help: String = {
        var lines = ["SETTINGS (a flag beats the environment variable, which beats a line in .env):"]
        for setting in Setting.all {
            lines.append("  \(setting.flag) <value>")
            lines += wrap(setting.help, width: 70).map { "        " + $0 }
            lines.append("        \(setting.environmentVariable); default: \(setting.defaultText)")
        }
        return lines.joined(separator: "\n")
    }()

    /// Words of `text` on lines of at most `width` characters.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
