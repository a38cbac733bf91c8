import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import Onboarding

/// Every request has an id that the response, every log line and the internal-error page share.
@Suite("Request ids and JSON logs")
struct RequestIdTests {
    typealias H = ServiceHarness

    @Test func aWellFormedIncomingIdIsKeptAndEchoedAndLogged() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let kept = try await browser.client.execute(uri: "/", method: .get, headers: [.requestId: "edge-7f3a.1:b_2"])
                #expect(kept.headers[.requestId] == "edge-7f3a.1:b_2")
                #expect(h.logs.all.contains { $0.contains("GET / 200") && $0.contains("edge-7f3a.1:b_2") })

                for bad in ["", "has space", "new\nline", String(repeating: "a", count: 129), "quote\"d"] {
                    let answer = try await browser.client.execute(uri: "/healthz", method: .get, headers: [.requestId: bad])
                    let echoed = try #require(answer.headers[.requestId])
                    #expect(echoed != bad && RequestIdMiddleware.isWellFormed(echoed), "\(bad.debugDescription) replaced")
                }
                let fresh = try await browser.get("/")
                #expect(RequestIdMiddleware.isWellFormed(try #require(fresh.headers[.requestId])))
                #expect(throws: ConfigurationError.self) { try h.configuration(["log.format": "xml"]) }
                #expect(try h.configuration(["log.format": "json"]).logFormat == .json)
                let missing = try await browser.get("/no-such-page")
                #expect(missing.status == .notFound && missing.headers[.requestId] != nil, "error pages carry it too")
            }
        }
    }

    @Test func theSquareClientsLinesAndFailuresCarryTheRequestsIdAndOnlyThat() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE"])
            try await h.withService(["log.level": "debug"]) { browser in
                let callback = try await h.startAndConsent(browser, merchantId: "MLSANDBOXBIKE")
                h.emulator.inject(.status(500, path: "/oauth2/token"))
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                let answer = try await browser.client.execute(
                    uri: callback,
                    method: .get,
                    headers: [.cookie: cookie, .requestId: "support-ticket-42"]
                )
                #expect(answer.status == .badGateway && answer.headers[.requestId] == "support-ticket-42")
            }
            let ours = h.logs.all.filter { $0.contains("hb.request.id=support-ticket-42") }
            #expect(ours.contains { $0.contains("Square call failed") && $0.contains("operation=obtainToken") }, "the client's line: \(ours)")
            #expect(ours.contains { $0.contains("GET /oauth/callback 502") })

            h.advanceTime(days: 8)
            let mark = h.logs.all.count
            let report = try await h.services().refresher.runPass()
            #expect(report.refreshed == 1)
            let background = h.logs.all.dropFirst(mark).filter { $0.contains("Square call succeeded") }
            #expect(!background.isEmpty && background.allSatisfy { !$0.contains("hb.request.id") }, "no request, no id: \(background)")
        }
    }

    @Test func jsonLinesCarryTheEventAndItsMetadata() throws {
        let event = LogEvent(
            level: .warning,
            message: "Square call failed",
            metadata: ["operation": "obtainToken", "hb.request.id": "abc"],
            source: "SquareOAuth",
            file: #file,
            function: #function,
            line: #line
        )
        let line = JSONLogHandler.line(event, label: "square-onboard", metadata: ["service": "onboard"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "warning" && object["message"] == "Square call failed" && object["label"] == "square-onboard")
        #expect(object["operation"] == "obtainToken" && object["hb.request.id"] == "abc" && object["service"] == "onboard")
        #expect(object["time"].map { $0.hasSuffix("Z") && $0.contains("T") } == true)
        #expect(!line.contains("\n"), "one line per event")
    }
}
