import Foundation
import Logging

/// Dispatches `square-onboard <command>` to the command's implementation.
public enum CommandLineInterface {
    static let usage = """
        square-onboard — connect merchants' Square accounts through Square OAuth

        Commands:
          demo       run the service and the Square emulator together on loopback, nothing to configure
          serve      run the service (configuration: flags, environment, .env; see README)
          refresh    refresh due tokens once ('--merchant ID' for one merchant now); see 'refresh --help'
          keys       'keys generate' prints a new encryption key for onboard.encryptionKeys;
                     'keys rotate' re-seals stored tokens under the active key; 'keys status' counts them per key
          emulator   run the built-in Square sandbox emulator alone (see 'square-onboard emulator --help')
          help       show this text
        """

    /// Runs the command named by the first argument; returns the process exit code.
    public static func run(arguments: [String]) async -> Int32 {
        let command = arguments.dropFirst().first ?? "help"
        let rest = Array(arguments.dropFirst(2))
        var logger = Logger(label: "square-onboard")
        logger.logLevel = .info
        do {
            switch command {
            case "demo":
                try await DemoCommand.run(arguments: rest, logger: logger)
            case "serve":
                try await ServeCommand.run(arguments: rest, logger: logger)
            case "refresh":
                return try await RefreshCommand.run(arguments: rest, logger: logger)
            case "keys":
                try await KeysCommand.run(arguments: rest)
            case "emulator":
                try await EmulatorCommand.run(arguments: rest, logger: logger)
            case "help", "--help", "-h":
                Console.line(usage)
            default:
                throw CommandError.unknownCommand(command)
            }
            return 0
        } catch {
            Console.error("square-onboard: \(error)")
            return 1
        }
    }
}
