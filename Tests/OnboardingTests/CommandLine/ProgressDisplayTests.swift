import Foundation
import OnboardCrypto
import TestSupport
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

    @Test func aLineWrittenMeanwhileClearsTheUpdatingLineWhichIsRedrawnAtTheNextStep() {
        let written = LogCollector()
        let display = ProgressDisplay(unit: "connections", isTerminal: true, write: written.append)
        display.update(OperationProgress(done: 1, total: 2, line: "progress: 1/2 connections", isMilestone: false))
        display.interject { written.append("MLSANDBOXCAFE: refreshed\n") }
        display.update(OperationProgress(done: 2, total: 2, line: "progress: 2/2 connections", isMilestone: true))
        display.finish()
        #expect(
            written.all.prefix(4) == [
                "\r\u{1B}[Kprogress: 1/2 connections", "\r\u{1B}[K", "MLSANDBOXCAFE: refreshed\n", "\r\u{1B}[Kprogress: 2/2 connections",
            ]
        )
        #expect(written.all.last?.hasPrefix("\r\u{1B}[Kfinished: 2/2 connections in ") == true)
    }

    @Test func aFailureBeforeAnyStepWritesNothing() {
        let written = LogCollector()
        for isTerminal in [false, true] {
            let display = ProgressDisplay(unit: "sealed values", isTerminal: isTerminal, write: written.append)
            display.finish()
            display.update(OperationProgress(done: 1, total: 1, line: "late", isMilestone: true))
            display.finish()
        }
        #expect(written.all.isEmpty)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script(1) for a terminal"))
    func keysRotateOnATerminalShowsOneUpdatingLineThenTheSummary() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            let newKey = try KeyRing(keys: [("new", .generate())]).serialized
            let environment = [
                "SQUARE_CLIENT_ID": ServiceHarness.clientId, "DATA_DIRECTORY": harness.dataDirectory,
                "ONBOARD_ENCRYPTION_KEYS": "\(newKey),\(harness.keys)", "PATH": "/usr/bin:/bin",
            ]
            // script(1) gives the command a terminal; stdout goes to a file, so the terminal shows only stderr.
            let command = "'\(try BuiltExecutable.path())' keys rotate --batch-size 1 > rotate.stdout"
            let terminal = try BuiltExecutable.run(
                program: "/usr/bin/script",
                ["-qec", command, "/dev/null"],
                environment: environment,
                in: harness.dataDirectory
            )
            #expect(terminal.exitCode == 0, "\(terminal.stdout)")
            let screen = terminal.stdout
            #expect(screen.hasPrefix("\r\u{1B}[Kre-sealed 1/"), "an updating line: \(screen.debugDescription)")
            #expect(screen.contains("\r\u{1B}[Kfinished: "), "the summary replaces it")
            #expect(screen.filter { $0 == "\n" || $0 == "\r\n" }.count == 1, "one line in all: \(screen.debugDescription)")
            let summary = try String(contentsOfFile: harness.dataDirectory + "/rotate.stdout", encoding: .utf8)
            #expect(summary.contains("nothing remains under an old key id"))
        }
    }
}
