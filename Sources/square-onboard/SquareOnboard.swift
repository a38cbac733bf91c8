import ArgumentParser
import Foundation

/// `square-onboard`: the command line. A usage error (unknown flag, bad value) prints the error and the usage and exits 64;
/// any other failure prints one line `square-onboard: …` on stderr and exits 1.
@main
struct SquareOnboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "square-onboard",
        abstract: "Connect merchants' Square accounts to your platform through Square OAuth.",
        discussion: """
            Every verb takes --help. Settings (serve, refresh, check-status, keys rotate, keys status) come from flags, the environment \
            and .env, in that order; 'square-onboard serve --help' lists them.
            """,
        subcommands: [
            DemoCommand.self, ServeCommand.self, RefreshCommand.self, CheckStatusCommand.self, KeysCommand.self, AdminCommand.self,
            PartnerCommand.self,
            EmulatorCommand.self,
        ]
    )

    static func main() async {
        let command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch let error where isArgumentParsers(error) {
            exit(withError: error)
        } catch {
            Console.error("square-onboard: \(error)")
            exit(withError: ExitCode.failure)
        }
    }

    /// Whether ArgumentParser should report `error`: an exit request, a usage error, or its own `help` verb's answer.
    static func isArgumentParsers(_ error: any Error) -> Bool {
        error is ExitCode || error is CleanExit || error is ValidationError
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }
}
