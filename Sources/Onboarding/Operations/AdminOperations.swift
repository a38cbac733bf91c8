import Configuration
import Foundation
import Logging
import NIOPosix
import OnboardCrypto

/// What `square-onboard admin …` and the demo do with the admin accounts in the service's database.
package enum AdminOperations {
    /// The role names the command line accepts, lowest first.
    package static let roleNames = AdminRole.allCases.map(\.rawValue)

    package static func isValidName(_ name: String) -> Bool { AdminAccounts.isValidName(name) }

    /// Throws the reason a password would be refused, so a prompt can say so before asking for it again.
    package static func checkPassword(_ password: String) throws { try AdminAccounts.checkPassword(password) }

    /// Adds an admin (creating the database if there is none yet); returns the line to print.
    package static func add(dataDirectory: String?, name: String, role: String, password: String, logger: Logger) async throws -> String {
        let role = try parse(role)
        let accounts = try await accounts(dataDirectory: dataDirectory, create: true, logger: logger)
        _ = try await accounts.add(name: name, role: role, password: password, actor: .cli)
        return "added admin '\(name)' (\(role.rawValue))"
    }

    /// Sets a new password and ends every session of the admin's.
    package static func resetPassword(dataDirectory: String?, name: String, password: String, logger: Logger) async throws -> String {
        let ended = try await accounts(dataDirectory: dataDirectory, create: false, logger: logger)
            .resetPassword(name: name, password: password, actor: .cli)
        return "changed the password of '\(name)'; signed out of \(ended) session(s)"
    }

    /// Gives an admin another role.
    package static func setRole(dataDirectory: String?, name: String, role: String, logger: Logger) async throws -> String {
        let role = try parse(role)
        try await accounts(dataDirectory: dataDirectory, create: false, logger: logger).setRole(name: name, role: role, actor: .cli)
        return "'\(name)' is now \(role.rawValue)"
    }

    /// Removes an admin (never the last owner).
    package static func remove(dataDirectory: String?, name: String, logger: Logger) async throws -> String {
        let ended = try await accounts(dataDirectory: dataDirectory, create: false, logger: logger).remove(name: name, actor: .cli)
        return "removed admin '\(name)'; signed out of \(ended) session(s)"
    }

    /// Ends an admin's sign-in lockout now.
    package static func unlock(dataDirectory: String?, name: String, logger: Logger) async throws -> String {
        let cleared = try await accounts(dataDirectory: dataDirectory, create: false, logger: logger).unlock(name: name, actor: .cli)
        return cleared == 0
            ? "'\(name)' was not locked out (no failed sign-ins counted)"
            : "unlocked '\(name)': forgot \(cleared) failed sign-in(s); they may sign in now"
    }

    /// One line per admin under a header: name, role, created, last sign-in, second factor.
    package static func list(dataDirectory: String?, logger: Logger) async throws -> [String] {
        let admins = try await accounts(dataDirectory: dataDirectory, create: false, logger: logger).list()
        guard !admins.isEmpty else { return ["no admins yet; add one with: square-onboard admin add NAME --role owner"] }
        let rows =
            [["NAME", "ROLE", "CREATED", "LAST SIGN-IN", "TOTP"]]
            + admins.map { [$0.name, $0.role.rawValue, format($0.createdAt), $0.lastSignInAt.map(format) ?? "never", $0.totpEnabled ? "on" : "off"] }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: $0 == 4 ? $1.count : widths[$0] + 2, withPad: " ", startingAt: 0) }.joined()
        }
    }

    /// The demo's owner `admin` with a new random password (its old one, on a reused data folder, stops working).
    package static func demoOwner(configuration: AppConfiguration, logger: Logger) async throws -> (name: String, password: String) {
        let accounts = try await accounts(databasePath: configuration.databasePath, create: true, logger: logger)
        let password = SecureRandom.token(length: 20, alphabet: Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
        if let existing = try await accounts.list().first(where: { $0.name == "admin" }) {
            try await accounts.resetPassword(name: "admin", password: password, actor: .cli)
            if existing.role != .owner { try await accounts.setRole(name: "admin", role: .owner, actor: .cli) }
        } else {
            _ = try await accounts.add(name: "admin", role: .owner, password: password, actor: .cli)
        }
        return ("admin", password)
    }

    private static func parse(_ role: String) throws -> AdminRole {
        guard let role = AdminRole(rawValue: role) else { throw AdminError.unknownRole(role) }
        return role
    }

    /// The accounts in the database under `dataDirectory`, else `data.directory` from the environment and `.env`.
    private static func accounts(dataDirectory: String?, create: Bool, logger: Logger) async throws -> AdminAccounts {
        let directory: String
        if let dataDirectory {
            directory = dataDirectory
        } else {
            directory = SettingsReader(reader: try await AppConfiguration.standardReader()).value(.dataDirectory)
        }
        // The same file name as AppConfiguration.databasePath.
        return try await accounts(
            databasePath: (directory as NSString).appendingPathComponent("square-onboard.sqlite"),
            create: create,
            logger: logger
        )
    }

    private static func accounts(databasePath path: String, create: Bool, logger: Logger) async throws -> AdminAccounts {
        guard create || FileManager.default.fileExists(atPath: path) else { throw KeyRotationError.noDatabase(path: path) }
        let store = try await NIOThreadPool.singleton.runIfActive { try AppDatabase.open(path: path) }
        return AdminAccounts(store: store, clock: .system, logger: logger)
    }

    /// A time as the commands print it: `2026-11-26 17:41Z`.
    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm'Z'"
        return formatter.string(from: date)
    }
}
