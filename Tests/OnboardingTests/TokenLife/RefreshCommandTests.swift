import ArgumentParser
import Foundation
import TestSupport
import Testing

@testable import Onboarding
@testable import square_onboard

/// `square-onboard refresh`: its flags, and what it prints for a pass.
@Suite("square-onboard refresh")
struct RefreshCommandTests {
    @Test func ownFlagsAreOptionsAndTheRestAreSettings() throws {
        let one = try RefreshCommand.parse(["--merchant", "MLSANDBOXCAFE", "--data-directory", "/srv/data"])
        #expect(one.merchantId == "MLSANDBOXCAFE")
        #expect(try one.settings.values() == [Setting.dataDirectory: "/srv/data"])
        #expect(try RefreshCommand.parse(["--all-due"]).merchantId == nil)
        for arguments in [["--merchant"], ["--merchant", "--all-due"], ["--merchant", "M1", "--all-due"], ["--merchant", ""]] {
            let error = #expect(throws: (any Error).self, "\(arguments)") { try RefreshCommand.parse(arguments) }
            #expect(RefreshCommand.message(for: error!).contains("--merchant"))
        }
    }

    @Test func aPassPrintsEachConnectionAProgressLineAndASummary() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            harness.advanceTime(days: 8)
            harness.emulator.inject(.status(400, path: "/oauth2/token"))
            let (output, progress) = (LogCollector(), LogCollector())
            let report = try await RefreshOperation.run(
                services: try await harness.services(),
                merchantId: nil,
                output: output.append,
                progress: { progress.append($0.line) }
            )
            let lines = output.all
            #expect(report.chosen == 2)
            #expect(lines.contains { $0.contains(": refreshed; access token valid until 20") })
            #expect(lines.contains { $0.contains(": needs re-authorization: Square answered HTTP 400") })
            #expect(lines.last == "2 due, 1 refreshed, 1 need re-authorization, 0 to retry later, 0 skipped")
            #expect(progress.all.last == "progress: 2/2 connections")
            let printed = lines.joined(separator: "\n")
            #expect(!printed.contains("EAAA") && !printed.contains("EQAA"), "no token is printed")
        }
    }

    @Test func aNamedMerchantIsRefreshedEvenWhenNotDue() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let output = LogCollector()
            let services = try await harness.services()
            let report = try await RefreshOperation.run(
                services: services,
                merchantId: "MLSANDBOXCAFE",
                output: output.append,
                progress: { _ in }
            )
            #expect(report.refreshed == 1)
            let unknown = try await RefreshOperation.run(
                services: services,
                merchantId: "MLNOBODY",
                output: output.append,
                progress: { _ in }
            )
            #expect(unknown.chosen == 0)
            #expect(output.all.contains("no connection for merchant MLNOBODY"))
        }
    }
}
