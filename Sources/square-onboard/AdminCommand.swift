import ArgumentParser
import Onboarding

/// `square-onboard admin …`: the accounts that may sign in to the admin dashboard.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Add, list, change and remove the accounts that sign in to the admin dashboard (/admin).",
        discussion: """
            Roles: viewer reads every page; operator also acts on connections; owner also manages admins. \
            Passwords are asked for with echo off, or read as one line from standard input when it is not a terminal; \
            never from a flag. The database is the one in --data-directory, else data.directory from the environment \
            (DATA_DIRECTORY) or .env, as for serve.
            """,
        subcommands: [Add.self, List.self, ResetPassword.self, SetRole.self, Remove.self, Unlock.self]
    )

    /// A role as the command line spells it.
    enum Role: String, CaseIterable, ExpressibleByArgument {
        case viewer
        case `operator`
        case owner
    }

    /// The options every admin verb shares.
    struct Target: ParsableArguments {
        @Option(help: ArgumentHelp("The folder holding square-onboard.sqlite (default: data.directory, as for serve).", valueName: "path"))
        var dataDirectory: String?
    }

    /// An admin's name, checked before anything is read or asked.
    struct Name: ParsableArguments {
        @Argument(help: ArgumentHelp("The admin's name: 1 to 64 of a-z, 0-9, '.', '_' and '-'.", valueName: "name"))
        var name: String

        func validate() throws {
            guard AdminOperations.isValidName(name) else {
                throw ValidationError("'<name>' must be 1 to 64 of a-z, 0-9, '.', '_' and '-' (got '\(name)')")
            }
        }
    }

    /// `admin add NAME --role ROLE`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an admin; the password is asked for (or read from standard input). Creates the database if needed."
        )

        @OptionGroup var name: Name
        @Option(help: "viewer, operator or owner.")
        var role: Role
        @OptionGroup var target: Target

        func run() async throws {
            let password = try PasswordInput.read(for: name.name)
            Console.line(
                try await AdminOperations.add(
                    dataDirectory: target.dataDirectory,
                    name: name.name,
                    role: role.rawValue,
                    password: password,
                    logger: Console.logger(level: .warning)
                )
            )
        }
    }

    /// `admin list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the admins: name, role, created, last sign-in, TOTP on or off.")

        @OptionGroup var target: Target

        func run() async throws {
            for line in try await AdminOperations.list(dataDirectory: target.dataDirectory, logger: Console.logger(level: .warning)) {
                Console.line(line)
            }
        }
    }

    /// `admin reset-password NAME`.
    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password (asked for, or read from standard input); the admin is signed out everywhere."
        )

        @OptionGroup var name: Name
        @OptionGroup var target: Target

        func run() async throws {
            let password = try PasswordInput.read(for: name.name)
            Console.line(
                try await AdminOperations.resetPassword(
                    dataDirectory: target.dataDirectory,
                    name: name.name,
                    password: password,
                    logger: Console.logger(level: .warning)
                )
            )
        }
    }

    /// `admin set-role NAME --role ROLE`.
    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-role",
            abstract: "Give an admin another role; the last owner stays an owner."
        )

        @OptionGroup var name: Name
        @Option(help: "viewer, operator or owner.")
        var role: Role
        @OptionGroup var target: Target

        func run() async throws {
            Console.line(
                try await AdminOperations.setRole(
                    dataDirectory: target.dataDirectory,
                    name: name.name,
                    role: role.rawValue,
                    logger: Console.logger(level: .warning)
                )
            )
        }
    }

    /// `admin remove NAME`.
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an admin and end their sessions; the last owner cannot be removed.")

        @OptionGroup var name: Name
        @OptionGroup var target: Target

        func run() async throws {
            Console.line(
                try await AdminOperations.remove(dataDirectory: target.dataDirectory, name: name.name, logger: Console.logger(level: .warning))
            )
        }
    }

    /// `admin unlock NAME`.
    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End an admin's sign-in lockout now (after too many wrong passwords), without waiting for the window."
        )

        @OptionGroup var name: Name
        @OptionGroup var target: Target

        func run() async throws {
            Console.line(
                try await AdminOperations.unlock(dataDirectory: target.dataDirectory, name: name.name, logger: Console.logger(level: .warning))
            )
        }
    }
}
