/// Where a long command-line operation stands, for the progress line the command shows.
package struct OperationProgress: Sendable, Equatable {
    /// Items finished so far.
    package var done: Int
    /// Items the operation chose at its start.
    package var total: Int
    /// The line to show, for example `progress: 20/100 connections`.
    package var line: String
    /// Whether the step is worth a line of its own in a log (a batch, every 10th connection, the last one);
    /// a terminal shows every step on one updating line.
    package var isMilestone: Bool

    /// A step of an operation over connections: every 10th and the last are milestones.
    package static func connections(done: Int, total: Int) -> OperationProgress {
        OperationProgress(
            done: done,
            total: total,
            line: "progress: \(done)/\(total) connections",
            isMilestone: done == total || done % 10 == 0
        )
    }
}
