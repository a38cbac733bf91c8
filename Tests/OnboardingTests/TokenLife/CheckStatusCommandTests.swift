import ArgumentParser
import Foundation
import Logging
import TestSupport
import Testing

@testable import Onboarding
@testable import square_onboard

/// `square-onboard check-status`: its flags, what it prints for a sweep and for one merchant, and when it fails.
@Suite("square-onboard check-status")
struct CheckStatusCommandTests {
    @Test func ownFlagsAreOptionsAndTheRestAreSettings() throws {
        let one = try CheckStatusCommand.parse(["--merchant", "MLSANDBOXCAFE", "--data-directory", "/srv/data"])
        #expect(one.merchantId == "MLSANDBOXCAFE")
        #expect(try one.settings.values() == [Setting.dataDirectory: "/srv/data"])
        #expect(try CheckStatusCommand.parse([]).merchantId == nil)
        for arguments in [["--merchant"], ["--merchant", ""], ["--merchant", String(repeating: "M", count: 65)]] {
            let error = #expect(throws: (any Error).self, "\(arguments)") { try CheckStatusCommand.parse(arguments) }
            #expect(CheckStatusCommand.message(for: error!).contains("--merchant"))
        }
    }

    @Test func aSweepPrintsEachConnectionAsItIsCheckedProgressAndASummary() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            harness.advanceTime(days: 2)
            #expect(harness.emulator.revokeAsMerchant(merchantId: "MLSANDBOXBIKE"))
            let (output, progress) = (LogCollector(), LogCollector())
            let report = try await StatusCheckOperation.run(
                services: try await harness.services(),
                merchantId: nil,
                output: output.append,
                progress: { progress.append($0.line) }
            )
            let lines = output.all
            #expect(report.chosen == 2 && report.valid == 1 && report.revoked == 1)
            #expect(lines.count == 3)
            #expect(
                lines.contains {
                    $0.hasPrefix("MLSANDBOXCAFE: valid until 20") && $0.hasSuffix("; scopes MERCHANT_PROFILE_READ PAYMENTS_READ ORDERS_WRITE")
                }
            )
            #expect(lines.contains("MLSANDBOXBIKE: revoked at Square; marked revoked"))
            #expect(lines.last == "2 due, 1 valid, 0 expired, 1 revoked, 0 need re-authorization, 0 not answered, 0 skipped")
            #expect(progress.all.first == "progress: 0/2 connections" && progress.all.last == "progress: 2/2 connections")
            let printed = lines.joined(separator: "\n")
            #expect(!printed.contains("EAAA") && !printed.contains("EQAA"), "no token is printed")
            let revoked = try await harness.database().auditEvents(merchantId: "MLSANDBOXBIKE").last
            #expect(revoked?.action == .connectionRevoked && revoked?.actor == .cli, "the change is recorded as the command's")
        }
    }

    @Test func aNamedMerchantIsCheckedNowAndAudited() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let output = LogCollector()
            let services = try await harness.services()
            let calls = harness.emulator.callCount(path: "/oauth2/token/status")
            let report = try await StatusCheckOperation.run(
                services: services,
                merchantId: "MLSANDBOXCAFE",
                output: output.append,
                progress: { _ in }
            )
            #expect(report.chosen == 1 && report.valid == 1, "checked although checked at connect a moment ago")
            #expect(harness.emulator.callCount(path: "/oauth2/token/status") == calls + 1)
            let checked = try await harness.database().auditEvents(merchantId: "MLSANDBOXCAFE").last
            #expect(checked?.action == .tokenStatusChecked && checked?.actor == .cli)

            let unknown = try await StatusCheckOperation.run(services: services, merchantId: "MLNOBODY", output: output.append, progress: { _ in })
            #expect(unknown.chosen == 0)
            #expect(output.all.contains("no connection for merchant MLNOBODY"))
        }
    }

    @Test func aCheckSquareDidNotAnswerFailsTheCommand() async throws {
        try await ServiceHarness.run { harness in
            try await harness.connectMerchants(["MLSANDBOXCAFE"])
            let configuration = try harness.configuration()
            let output = LogCollector()
            func run(_ merchantId: String) async throws -> Bool {
                try await StatusCheckOperation.run(
                    configuration: configuration,
                    merchantId: merchantId,
                    logger: Logger(label: "check-status") { _ in SwiftLogNoOpLogHandler() },
                    output: output.append,
                    progress: { _ in }
                )
            }
            #expect(try await run("MLSANDBOXCAFE"), "Square answered")
            harness.emulator.inject(.status(503, path: "/oauth2/token/status"))
            #expect(try await run("MLSANDBOXCAFE") == false, "Square did not answer")
            #expect(output.all.contains { $0.hasPrefix("MLSANDBOXCAFE: not answered, nothing changed: Square answered HTTP 503") })
            #expect(try await run("MLNOBODY") == false, "no such merchant")
        }
    }
}
