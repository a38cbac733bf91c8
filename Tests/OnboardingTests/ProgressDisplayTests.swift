import Testing

@testable import Onboarding
@testable import square_onboard

/// Progress of long commands: one updating line on a terminal, a line per milestone in a log, a summary either way.
@Suite("Command progress on stderr")
struct ProgressDisplayTests {
    func steps(_ display: ProgressDisplay) {
        for done in 1...20 {
            display.update(OperationProgress(done: done, total: 20, line: "progress: \(done)/20 connections", isMilestone: done % 10 == 0))
        }
        display.finish()
        display.finish()
    }

    @Test func aLogGetsTheMilestoneLinesAndASummary() {
        let written = LogCollector()
        steps(ProgressDisplay(unit: "connections", isTerminal: false, write: written.append))
        #expect(written.all.count == 3)
        #expect(written.all.prefix(2) == ["progress: 10/20 connections\n", "progress: 20/20 connections\n"])
        #expect(written.all.last?.hasPrefix("finished: 20/20 connections in ") == true)
        #expect(written.all.last?.hasSuffix(" s\n") == true)
    }

    @Test func aTerminalGetsOneUpdatingLineThatTheSummaryReplaces() {
        let written = LogCollector()
        steps(ProgressDisplay(unit: "connections", isTerminal: true, write: written.append))
        let text = written.all.joined()
        #expect(text.hasPrefix("\r\u{1B}[Kprogress: 1/20 connections"))
        #expect(text.contains("\r\u{1B}[Kprogress: 20/20 connections"), "the last step is always drawn")
        #expect(text.filter { $0 == "\n" }.count == 1, "one line in all: the summary")
        #expect(written.all.last?.hasPrefix("\r\u{1B}[Kfinished: 20/20 connections in ") == true)
    }
}
