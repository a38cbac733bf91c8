import Foundation
import Onboarding

/// A password for an admin command: asked twice with echo off on a terminal, else one line of standard input.
///
/// Never a flag: a flag would sit in the shell's history and in every process listing.
enum PasswordInput {
    enum Failure: Error, CustomStringConvertible {
        case noInput
        case mismatch

        var description: String {
            switch self {
            case .noInput: "no password given (type it at the prompt, or pipe one line to standard input)"
            case .mismatch: "the two passwords differ; nothing was changed"
            }
        }
    }

    /// The new password for `name`.
    static func read(for name: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw Failure.noInput }
            return line
        }
        let first = try prompt("New password for \(name): ")
        try AdminOperations.checkPassword(first)
        guard try prompt("Repeat it: ") == first else { throw Failure.mismatch }
        return first
    }

    /// One line from the terminal with echo off, the prompt and the line break on stderr.
    static func prompt(_ text: String) throws -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var original = termios()
        let canSilence = tcgetattr(STDIN_FILENO, &original) == 0
        if canSilence {
            var silent = original
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        defer {
            if canSilence { tcsetattr(STDIN_FILENO, TCSAFLUSH, &original) }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw Failure.noInput }
        return line
    }
}
