import Foundation
import Logging

/// Unbuffered console output, so startup lines reach a pipe or a log file at once.
enum Console {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether stderr is a terminal, where progress is one updating line rather than a line per step.
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// The logger the commands hand to the service: info and up, on stderr.
    static func logger(level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "square-onboard")
        logger.logLevel = level
        return logger
    }
}
