import Foundation

/// The command line of `seed-connections`; anything it does not know is passed to the service's configuration.
struct SeedOptions {
    static let usage = """
        usage: seed-connections --data-directory DIR --count N [--emulator URL] [--due] [--status-due] [--statuses MIX]
                                [--batch N] [--seed N] [--flow pkce|code|mixed] [--setting value ...]

        Writes N connections into the service's database in DIR through its own storage code (sealed tokens, one
        transaction per batch, a connection.connected audit event each) and, with --emulator, registers the same
        tokens at a running 'square-onboard emulator' (POST /_emulator/merchants), so that refresh, status checks
        and revocation work against it. Settings (encryption keys, Square environment, client id) are read as
        'square-onboard serve' reads them: flags, then the environment, then .env.

          --data-directory DIR  the service's data folder (created with a fresh database when missing)
          --count N             how many connections (default 100000)
          --emulator URL        the emulator's base URL, e.g. http://127.0.0.1:8081
          --due                 every token is old enough to be due for refresh; the default mix becomes all active
          --status-due          every active connection is due for its status check (never checked, or 1.5 to 10 days
                                ago); the default mix becomes all active
          --statuses MIX        the share of each status, e.g. active=90,needs_reauth=4,revoked=3,expired=3 (default)
          --batch N             connections per transaction and per emulator request (default 1000)
          --seed N              the random seed; the same seed gives the same merchants (default 1)
          --flow F              pkce, code or mixed (default: mixed, 4 in 5 pkce, when a client secret is set, else pkce)
          --help                this text

        Merchant ids are ML + 10 letters and digits, unique per index; about 70 % of connections carry a partner
        reference (shop-…, acct_…, store/…, ORD-…). Progress goes to stderr, a summary to stdout.
        """

    var count = 100_000
    var emulator: URL?
    var due = false
    var statusDue = false
    var statuses: [(String, Int)] = []
    var batch = 1000
    var seed: UInt64 = 1
    var flow = "auto"
    /// Service settings, by flag name.
    var settings: [String: String] = [:]

    /// Parses `arguments` (without the program name); throws a message for the user.
    init(_ arguments: [String]) throws {
        var remaining = arguments[...]
        func value(_ flag: String, _ inline: String?) throws -> String {
            if let inline { return inline }
            guard let next = remaining.popFirst(), !next.hasPrefix("--") else { throw SeedError.usage("\(flag) needs a value") }
            return next
        }
        while let argument = remaining.popFirst() {
            guard argument.hasPrefix("--") else { throw SeedError.usage("unexpected argument '\(argument)'") }
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            let flag = parts[0]
            let inline = parts.count == 2 ? parts[1] : nil
            switch flag {
            case "--help": throw SeedError.help
            case "--due": due = true
            case "--status-due": statusDue = true
            case "--count": count = try Self.positive(flag, try value(flag, inline))
            case "--batch": batch = try Self.positive(flag, try value(flag, inline))
            case "--seed": seed = UInt64(try Self.positive(flag, try value(flag, inline)))
            case "--emulator":
                let text = try value(flag, inline)
                guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? "") else {
                    throw SeedError.usage("--emulator needs an http(s) URL, got '\(text)'")
                }
                emulator = url
            case "--statuses": statuses = try Self.mix(try value(flag, inline))
            case "--flow":
                flow = try value(flag, inline)
                guard ["pkce", "code", "mixed"].contains(flow) else { throw SeedError.usage("--flow must be pkce, code or mixed") }
            default: settings[flag] = try value(flag, inline)
            }
        }
        guard settings["--data-directory"] != nil || ProcessInfo.processInfo.environment["DATA_DIRECTORY"] != nil else {
            throw SeedError.usage("--data-directory is required")
        }
        if statuses.isEmpty {
            statuses = due || statusDue ? [("active", 100)] : [("active", 90), ("needs_reauth", 4), ("revoked", 3), ("expired", 3)]
        }
    }

    static func positive(_ flag: String, _ text: String) throws -> Int {
        guard let number = Int(text), number > 0 else { throw SeedError.usage("\(flag) needs a positive whole number, got '\(text)'") }
        return number
    }

    /// `active=90,revoked=10` → [(active, 90), (revoked, 10)].
    static func mix(_ text: String) throws -> [(String, Int)] {
        let known = ["active", "needs_reauth", "revoked", "expired"]
        var mix: [(String, Int)] = []
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=").map(String.init)
            guard pair.count == 2, known.contains(pair[0]), let weight = Int(pair[1]), weight >= 0 else {
                throw SeedError.usage("--statuses takes status=weight pairs of \(known.joined(separator: ", ")), got '\(part)'")
            }
            mix.append((pair[0], weight))
        }
        guard mix.contains(where: { $0.1 > 0 }) else { throw SeedError.usage("--statuses needs a positive weight") }
        return mix
    }
}

/// Why `seed-connections` stops.
enum SeedError: Error, CustomStringConvertible {
    case help
    case usage(String)
    case emulator(String)

    var description: String {
        switch self {
        case .help: SeedOptions.usage
        case .usage(let message): "\(message)\n\n\(SeedOptions.usage)"
        case .emulator(let message): "emulator: \(message)"
        }
    }
}
