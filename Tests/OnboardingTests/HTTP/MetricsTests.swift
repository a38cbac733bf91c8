import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Onboarding

/// `/metrics`: off unless a bearer token is configured, then Prometheus text with what an operator graphs.
@Suite("Prometheus metrics", .serialized)
struct MetricsTests {
    typealias H = ServiceHarness
    static let token = "prometheus-scrape-token-for-tests"

    static func scrape(_ browser: Browser, token: String?) async throws -> TestResponse {
        let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
        return try await browser.client.execute(uri: "/metrics", method: .get, headers: headers)
    }

    @Test func withoutATokenConfiguredMetricsAreOff() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let (none, any) = (try await Self.scrape(browser, token: nil), try await Self.scrape(browser, token: "anything"))
                #expect(none.status == .notFound && any.status == .notFound)
            }
        }
    }

    @Test func withATokenOnlyThatTokenReadsThem() async throws {
        try await H.run { h in
            try await h.withService(["metrics.bearerToken": Self.token]) { browser in
                let missing = try await Self.scrape(browser, token: nil)
                #expect(missing.status == .unauthorized && missing.headers[.wwwAuthenticate] == #"Bearer realm="metrics""#)
                let (wrong, right) = (try await Self.scrape(browser, token: "wrong"), try await Self.scrape(browser, token: Self.token))
                #expect(wrong.status == .unauthorized && right.status == .ok)
            }
        }
    }

    @Test func requestsSquareCallsRefreshesAndConnectionsAreCounted() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE", "MLSANDBOXBIKE"])
            h.advanceTime(days: 8)
            _ = try await h.services().refresher.runPass()
            try await h.withService(["metrics.bearerToken": Self.token]) { browser in
                _ = try await browser.get("/")
                let page = try await Self.scrape(browser, token: Self.token)
                #expect(page.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = page.html
                #expect(text.contains(#"square_onboard_connections{status="active"} 2"#), "the gauge is this database's")
                #expect(text.contains(#"square_onboard_connections{status="revoked"} 0"#))
                #expect(Self.value(text, #"square_onboard_refreshes_total{outcome="refreshed"}"#) >= 2)
                #expect(Self.value(text, #"square_requests_seconds_count{operation="obtainToken",outcome="success"}"#) >= 4)
                #expect(Self.value(text, #"hb_requests{http_route="/",http_request_method="GET",http_response_status_code="200"}"#) >= 1)
                #expect(text.contains(#"http_server_request_duration_count{http_route="/oauth/callback""#), "latency by route")
                #expect(!text.contains("EAAA") && !text.contains(Self.token), "no token in the metrics")
            }
        }
    }

    @Test func failedSquareCallsErrorAnswersAndStatusChecksAreCountedWithTheirOutcome() async throws {
        try await H.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE"])
            h.advanceTime(days: 2)
            let checked = try await h.services().checker.sweep()
            #expect(checked.valid == 1, "the connection is due for its daily status check")
            try await h.withService(["metrics.bearerToken": Self.token]) { browser in
                // The registry is the process's, shared with suites running beside this one: compare before and after.
                let failedCall = #"square_requests_seconds_count{operation="obtainToken",outcome="transient"}"#
                let badGateway = #"hb_requests{http_route="/oauth/callback",http_request_method="GET",http_response_status_code="502"}"#
                let before = try await Self.scrape(browser, token: Self.token).html
                h.emulator.inject(.status(500, path: "/oauth2/token"))
                let failed = try await h.connect(browser, merchantId: "MLSANDBOXBIKE")
                #expect(failed.status == .badGateway)

                let text = try await Self.scrape(browser, token: Self.token).html
                #expect(Self.value(text, failedCall) >= max(Self.value(before, failedCall), 0) + 1, "Square's 500 is a transient failure")
                #expect(Self.value(text, badGateway) >= max(Self.value(before, badGateway), 0) + 1, "the answer's status is counted")
                let bucket = #"square_requests_seconds_bucket{operation="obtainToken",outcome="transient",le="+Inf"}"#
                #expect(Self.value(text, bucket) >= 1, "Square latency is a histogram")
                #expect(text.contains(#"http_server_request_duration_bucket{http_route="/oauth/callback",http_request_method="GET""#))
                #expect(Self.value(text, #"square_onboard_status_checks_total{outcome="valid"}"#) >= 1)
                #expect(Self.value(text, #"square_requests_seconds_count{operation="retrieveTokenStatus",outcome="success"}"#) >= 1)
                #expect(text.contains(#"square_onboard_connections{status="active"} 1"#), "the failed connect added no connection")
                #expect(text.contains(#"http_server_active_requests{http_request_method="GET"}"#), "requests in progress")
            }
        }
    }

    /// The value of the first sample line that starts with `series`, or -1.
    static func value(_ text: String, _ series: String) -> Double {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1)) ?? -1
        }
        return -1
    }
}
