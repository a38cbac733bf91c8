import Foundation
import TestSupport
import Testing

@testable import Onboarding

/// `square-onboard refresh`: its flags, and what it prints for a pass.
@Suite("square-onboard refresh")
struct RefreshCommandTests {
    @Test func flagsAreSplitFromTheServiceConfiguration() throws {
        let one = try RefreshCommand.Options(arguments: ["--merchant", "MLSANDBOXCAFE", "--data-directory", "/srv/data"])
        #expect(one.merchantId == "MLSANDBOXCAFE")
        #expect(one.configurationArguments == ["--data-directory", "/srv/data"])
        #expect(try RefreshCommand.Options(arguments: ["--all-due"]).merchantId == nil)
        #expect(throws: CommandError.self) { try RefreshCommand.Options(arguments: ["--merchant"]) }
        #expect(throws: CommandError.self) { try RefreshCommand.Options(arguments: ["--merchant", "--all-due"]) }
        #expect(throws: CommandError.self) { try RefreshCommand.Options(arguments: ["--merchant", "M1", "--all-due"]) }
    }

    @Test func aPassPrintsEachConnectionAProgressLineAndASummary() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            harness.advanceTime(days: 8)
            harness.emulator.inject(.status(400, path: "/oauth2/token"))
            let (output, progress) = (LogCollector(), LogCollector())
            let report = try await RefreshCommand.run(
                services: try harness.services(),
                merchantId: nil,
                output: output.append,
                progress: progress.append
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
            let services = try harness.services()
            let report = try await RefreshCommand.run(
                services: services,
                merchantId: "MLSANDBOXCAFE",
                output: output.append,
                progress: { _ in }
            )
            #expect(report.refreshed == 1)
            let unknown = try await RefreshCommand.run(
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
