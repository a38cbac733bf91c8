import ArgumentParser
import Onboarding

/// `square-onboard check-status`: one token status sweep from the command line, with the service's configuration.
struct CheckStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-status",
        abstract: "Check due access tokens with Square once (RetrieveTokenStatus), or one merchant's now.",
        discussion: """
            Reads the same settings as 'serve'; checks every active connection not checked within status.intervalHours, \
            at most refresh.concurrency at once, and records what Square says as the service's sweep does. Prints a line \
            per connection and a summary on stdout, progress on stderr.
            Exit status: 0 when Square answered every check (valid, expired, revoked or refused alike), 1 when any check \
            went unanswered or the merchant has no connection.
            """ + "\n\n" + SettingFlags.help
    )

    @Option(name: .customLong("merchant"), help: ArgumentHelp("Check this merchant's connection now, due or not.", valueName: "id"))
    var merchantId: String?

    @OptionGroup var settings: SettingFlags

    func validate() throws {
        if let merchantId, merchantId.isEmpty || merchantId.utf8.count > 64 {
            throw ValidationError("'--merchant' needs a Square merchant id (1 to 64 characters)")
        }
    }

    func run() async throws {
        let display = ProgressDisplay(unit: "connections")
        defer { display.finish() }
        let answered = try await StatusCheckOperation.run(
            configuration: try await settings.configuration(),
            merchantId: merchantId,
            logger: Console.logger(level: .warning),
            output: { line in display.interject { Console.line(line) } },
            progress: display.update
        )
        if !answered { throw ExitCode.failure }
    }
}
