import ArgumentParser
import Onboarding

/// `square-onboard refresh`: one refresh pass from the command line, with the service's configuration.
struct RefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Refresh due access tokens once, or one merchant's now.",
        discussion: """
            Reads the same settings as 'serve'. Safe beside a running service: rows are leased, so no connection is \
            refreshed twice at once. Prints a line per connection as it finishes and a summary on stdout, progress on stderr.
            Exit status: 0 when every chosen connection was refreshed or skipped, 1 when any failed or needs \
            re-authorization.
            """ + "\n\n" + SettingFlags.help
    )

    @Flag(help: "Refresh every connection that is due (the default).")
    var allDue = false

    @Option(name: .customLong("merchant"), help: ArgumentHelp("Refresh this merchant's connection now, due or not.", valueName: "id"))
    var merchantId: String?

    @OptionGroup var settings: SettingFlags

    func validate() throws {
        if let merchantId {
            guard !merchantId.isEmpty, merchantId.utf8.count <= 64 else {
                throw ValidationError("'--merchant' needs a Square merchant id (1 to 64 characters)")
            }
            guard !allDue else { throw ValidationError("'--merchant' and '--all-due' cannot be used together") }
        }
    }

    func run() async throws {
        let display = ProgressDisplay(unit: "connections")
        defer { display.finish() }
        let succeeded = try await RefreshOperation.run(
            configuration: try await settings.configuration(),
            merchantId: merchantId,
            logger: Console.logger(level: .warning),
            output: { line in display.interject { Console.line(line) } },
            progress: display.update
        )
        if !succeeded { throw ExitCode.failure }
    }
}
