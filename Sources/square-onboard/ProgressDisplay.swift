import Foundation
import Onboarding
import Synchronization

/// A long operation's progress on stderr: one updating line on a terminal, the milestone lines when stderr is a log,
/// and a closing summary line either way.
final class ProgressDisplay: Sendable {
    private struct State {
        var last: OperationProgress?
        var lastDrawn: ContinuousClock.Instant?
        var lineOpen = false
        var finished = false
    }

    private let isTerminal: Bool
    private let unit: String
    private let write: @Sendable (String) -> Void
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    /// `unit` names what is counted in the summary (`connections`, `sealed values`).
    init(
        unit: String,
        isTerminal: Bool = Console.stderrIsTerminal,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.unit = unit
        self.isTerminal = isTerminal
        self.write = write
    }

    /// Shows a step: on a terminal redraws the line (at most ten times a second, and always the last step).
    func update(_ step: OperationProgress) {
        state.withLock { state in
            guard !state.finished else { return }
            state.last = step
            guard isTerminal else {
                if step.isMilestone { write(step.line + "\n") }
                return
            }
            let now = ContinuousClock.now
            if let drawn = state.lastDrawn, now - drawn < .milliseconds(100), step.done < step.total { return }
            state.lastDrawn = now
            state.lineOpen = true
            write("\r\u{1B}[K" + step.line)
        }
    }

    /// Writes `body`'s output (a line on stdout) without mixing it into the updating line: on a terminal the line is
    /// cleared first and redrawn at the next step.
    func interject(_ body: () -> Void) {
        state.withLock { state in
            if state.lineOpen {
                write("\r\u{1B}[K")
                state.lineOpen = false
                state.lastDrawn = nil
            }
            body()
        }
    }

    /// Ends with one summary line, `finished: 20/20 connections in 1.2 s`, replacing the updating line on a terminal.
    /// Nothing is written when no step was shown (a failure before the work began); later calls do nothing, so a
    /// command can call it before its first line of output and again on the way out.
    func finish() {
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        state.withLock { state in
            guard !state.finished else { return }
            state.finished = true
            guard let last = state.last else { return }
            let summary = "finished: \(last.done)/\(last.total) \(unit) in \(String(format: "%.1f", seconds)) s"
            write((state.lineOpen ? "\r\u{1B}[K" : "") + summary + "\n")
            state.lineOpen = false
        }
    }
}
