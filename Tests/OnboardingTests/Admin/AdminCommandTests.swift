import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OnboardCrypto
import Testing

@testable import Onboarding

/// `square-onboard admin …` as an operator runs it: passwords on standard input, never in output.
@Suite("square-onboard admin")
struct AdminCommandTests {
    /// A fresh folder for one test's database, removed afterwards.
    static func withFolder(_ body: (String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("so-admin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await body(folder)
    }

    /// `square-onboard admin arguments… --data-directory folder` with `input` as standard input.
    static func admin(_ arguments: [String], in folder: String, input: String = "") throws -> BuiltExecutable.Run {
        try BuiltExecutable.run(
            ["admin"] + arguments + ["--data-directory", folder + "/data"],
            environment: ["PATH": "/usr/bin:/bin"],
            in: folder,
            input: input
        )
    }

    static func store(_ folder: String) throws -> AppDatabase {
        try AppDatabase.open(path: folder + "/data/square-onboard.sqlite")
    }

    @Test func addListResetSetRoleAndRemoveWithPasswordsOnStandardInput() async throws {
        try await Self.withFolder { folder in
            let (rootPassword, opsPassword, newPassword) = ("root pass phrase 1", "ops pass phrase 22", "ops new phrase 333")
            var runs: [BuiltExecutable.Run] = []
            func admin(_ arguments: [String], input: String = "") throws -> BuiltExecutable.Run {
                let run = try Self.admin(arguments, in: folder, input: input)
                runs.append(run)
                return run
            }

            let added = try admin(["add", "root", "--role", "owner"], input: rootPassword + "\n")
            #expect(added.exitCode == 0, "\(added.stderr)")
            #expect(added.stdout == "added admin 'root' (owner)\n")
            #expect(try admin(["add", "ops.team", "--role", "operator"], input: opsPassword + "\n").exitCode == 0)

            let list = try admin(["list"])
            #expect(list.exitCode == 0)
            let lines = list.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 3 && lines[0].hasPrefix("NAME") && lines[0].contains("LAST SIGN-IN") && lines[0].hasSuffix("TOTP"))
            #expect(lines[1].hasPrefix("ops.team ") && lines[1].contains("operator") && lines[1].contains("never") && lines[1].hasSuffix("off"))
            #expect(lines[2].hasPrefix("root ") && lines[2].contains("owner"))

            let taken = try admin(["add", "root", "--role", "viewer"], input: "another password\n")
            #expect(taken.exitCode == 1 && taken.stderr == "square-onboard: an admin named 'root' already exists\n")

            let reset = try admin(["reset-password", "ops.team"], input: newPassword + "\n")
            #expect(reset.exitCode == 0 && reset.stdout == "changed the password of 'ops.team'; signed out of 0 session(s)\n")
            let promoted = try admin(["set-role", "ops.team", "--role", "owner"])
            #expect(promoted.exitCode == 0 && promoted.stdout == "'ops.team' is now owner\n")
            let removed = try admin(["remove", "root"])
            #expect(removed.exitCode == 0 && removed.stdout == "removed admin 'root'; signed out of 0 session(s)\n")
            let last = try admin(["remove", "ops.team"])
            #expect(last.exitCode == 1)
            #expect(last.stderr == "square-onboard: 'ops.team' is the last owner; make another admin an owner first\n")
            let demoted = try admin(["set-role", "ops.team", "--role", "viewer"])
            #expect(demoted.exitCode == 1 && demoted.stderr.contains("is the last owner"))

            let store = try Self.store(folder)
            let ops = try #require(try await store.admin(named: "ops.team"))
            #expect(ops.role == .owner)
            #expect(try PasswordHash.verify(newPassword, against: ops.passwordHash))
            #expect(!(try PasswordHash.verify(opsPassword, against: ops.passwordHash)))
            #expect(ops.passwordHash.hasPrefix("$scrypt$ln=15,r=8,p=1$"), "the interactive cost")
            let audit = try await store.auditEvents()
            #expect(audit.map(\.action) == [.adminAdded, .adminAdded, .adminPasswordChanged, .adminRoleChanged, .adminRemoved])
            #expect(audit.allSatisfy { $0.actor == .cli })
            for run in runs {
                for password in [rootPassword, opsPassword, newPassword] {
                    #expect(!run.stdout.contains(password) && !run.stderr.contains(password))
                }
            }
        }
    }

    @Test func theDatabaseComesFromDataDirectoryWhenNoFlagNamesIt() async throws {
        try await Self.withFolder { folder in
            let environment = ["PATH": "/usr/bin:/bin", "DATA_DIRECTORY": folder + "/from-env"]
            let added = try BuiltExecutable.run(
                ["admin", "add", "amy", "--role", "owner"],
                environment: environment,
                in: folder,
                input: "a long password\n"
            )
            #expect(added.exitCode == 0, "\(added.stderr)")
            #expect(FileManager.default.fileExists(atPath: folder + "/from-env/square-onboard.sqlite"))
            let list = try BuiltExecutable.run(["admin", "list"], environment: environment, in: folder)
            #expect(list.stdout.contains("amy"))
        }
    }

    @Test(arguments: [
        (["add", "root"], "", "square-onboard: no password given (type it at the prompt, or pipe one line to standard input)\n"),
        (["add", "root"], "short\n", "square-onboard: the password must have at least 10 characters\n"),
        (["list"], "", "no database at"),
        (["remove", "ghost"], "", "no database at"),
    ])
    func failuresAfterParsingAreOneLineAndStatus1(arguments: [String], input: String, message: String) async throws {
        try await Self.withFolder { folder in
            let extra = arguments.first == "add" ? ["--role", "owner"] : []
            let run = try Self.admin(arguments + extra, in: folder, input: input)
            #expect(run.exitCode == 1)
            #expect(run.stderr.hasPrefix("square-onboard: ") && run.stderr.contains(message.replacingOccurrences(of: "square-onboard: ", with: "")))
            #expect(run.stdout.isEmpty)
            #expect(!run.stderr.contains("short"), "a refused password is not repeated")
        }
    }

    @Test func anUnknownAdminIsNamed() async throws {
        try await Self.withFolder { folder in
            #expect(try Self.admin(["add", "root", "--role", "owner"], in: folder, input: "a long password\n").exitCode == 0)
            for verb in [["remove", "ghost"], ["set-role", "ghost", "--role", "viewer"], ["reset-password", "ghost"]] {
                let run = try Self.admin(verb, in: folder, input: "another long one\n")
                #expect(run.exitCode == 1 && run.stderr == "square-onboard: no admin is named 'ghost'\n", "\(verb)")
            }
        }
    }

    @Test(arguments: [
        (["admin", "add", "Bad Name", "--role", "owner"], "'<name>'", "Usage: square-onboard admin add"),
        (["admin", "add", String(repeating: "a", count: 65), "--role", "owner"], "'<name>'", "Usage: square-onboard admin add"),
        (["admin", "add", "root", "--role", "root"], "--role", "Usage: square-onboard admin add"),
        (["admin", "add", "root"], "--role", "Usage: square-onboard admin add"),
        (["admin", "remove"], "<name>", "Usage: square-onboard admin remove"),
        (["admin", "add", "root", "--role", "owner", "--password", "x"], "--password", "Usage: square-onboard admin add"),
        (["admin", "frobnicate"], "frobnicate", "Usage: square-onboard admin"),
    ])
    func aUsageErrorNamesWhatIsWrongAndExits64(arguments: [String], named: String, usage: String) throws {
        let run = try BuiltExecutable.run(arguments, environment: ["PATH": "/usr/bin:/bin"], input: "")
        #expect(run.exitCode == 64, "\(arguments): \(run.stderr)")
        #expect(run.stderr.contains(named) && run.stderr.contains(usage), "\(arguments): \(run.stderr)")
    }

    @Test(arguments: [
        (["admin", "--help"], ["add", "list", "reset-password", "set-role", "remove", "viewer", "operator", "owner"]),
        (["admin", "add", "--help"], ["<name>", "--role", "--data-directory", "password"]),
        (["admin", "list", "--help"], ["--data-directory", "TOTP"]),
        (["admin", "reset-password", "--help"], ["<name>", "--data-directory", "signed out everywhere"]),
        (["admin", "set-role", "--help"], ["<name>", "--role"]),
        (["admin", "remove", "--help"], ["<name>", "last owner"]),
        (["help", "admin", "add"], ["--role"]),
        (["--help"], ["admin"]),
    ])
    func helpWorksOnEveryAdminVerb(arguments: [String], names: [String]) throws {
        let run = try BuiltExecutable.run(arguments, environment: ["PATH": "/usr/bin:/bin"])
        #expect(run.exitCode == 0, "\(arguments): \(run.stderr)")
        #expect(run.stdout.contains("USAGE: square-onboard"))
        for name in names { #expect(run.stdout.contains(name), "\(arguments) --help names \(name)") }
    }

    @Test func theDemoPrintsItsAdminSignInOnceAndThePasswordWorks() async throws {
        try await withDemoAndConsole { base, _, console in
            let printed = console()
            let line = try #require(printed.split(separator: "\n").first { $0.contains("/admin/login") })
            #expect(line.hasPrefix("  Admin           \(base)/admin/login   name admin, password "))
            let password = try #require(line.firstMatch(of: #/password ([A-Za-z0-9]{20}) /#)?.output.1)
            #expect(printed.components(separatedBy: String(password)).count == 2, "printed once")
            #expect(try await Self.signIn(base: base, name: "admin", password: String(password)) == "/admin")
        }
    }

    /// Signs in over real HTTP; returns where the sign-in sent the browser.
    static func signIn(base: String, name: String, password: String) async throws -> String? {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let location = try await signIn(base: base, name: name, password: password, http: http)
            try await http.shutdown()
            return location
        } catch {
            try await http.shutdown()
            throw error
        }
    }

    static func signIn(base: String, name: String, password: String, http: HTTPClient) async throws -> String? {
        let page = try await http.execute(HTTPClientRequest(url: base + "/admin/login"), timeout: .seconds(10))
        let cookie = try #require(page.headers["set-cookie"].first?.split(separator: ";").first.map(String.init))
        let html = String(buffer: try await page.body.collect(upTo: 65536))
        let csrf = try #require(html.firstMatch(of: /name="csrf_token" value="([^"]+)"/)?.output.1)
        var post = HTTPClientRequest(url: base + "/admin/login")
        post.method = .POST
        post.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        post.headers.add(name: "Cookie", value: cookie)
        post.body = .bytes(ByteBuffer(string: "csrf_token=\(csrf)&name=\(name)&password=\(password)&next=%2Fadmin"))
        let answer = try await http.execute(post, timeout: .seconds(10))
        #expect(answer.status == .seeOther)
        return answer.headers["location"].first
    }
}
