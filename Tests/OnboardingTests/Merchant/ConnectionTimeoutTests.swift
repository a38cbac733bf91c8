import Foundation
import Testing

@testable import Onboarding

/// Slow clients cannot hold connections: a request head, a body and an idle keep-alive each have a deadline.
@Suite("Connection timeouts: slow headers, slow bodies, idle connections, oversized heads")
struct ConnectionTimeoutTests {
    typealias H = ServiceHarness

    /// A request head sent one header line a second for 10 s, never finished.
    static let slowHead = ["GET / HTTP/1.1\r\n", "Host: 127.0.0.1\r\n"] + (1...9).map { "X-Slow-\($0): \($0)\r\n" }

    @Test func aConnectionSendingOneHeaderLineASecondIsClosedWithinTheIdleTimeout() async throws {
        try await H.run { h in
            try await h.withLiveService(["http.idleTimeoutSeconds": "2"]) { port in
                let closed = try await RawHTTP.timeUntilClosed(port: port, writes: Self.slowHead, interval: .seconds(1), limit: .seconds(12))
                let after = try #require(closed, "the slow client was still connected after 12 s")
                #expect(after >= .milliseconds(1500), "closed after \(after), not before the timeout")
                #expect(after < .seconds(5), "closed after \(after)")
            }
        }
    }

    @Test func aBodyTricklingInAByteASecondIsClosedWithinTheBodyTimeout() async throws {
        try await H.run { h in
            try await h.withLiveService(["http.idleTimeoutSeconds": "5", "http.bodyTimeoutSeconds": "2"]) { port in
                let head =
                    "POST /oauth/start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: 100\r\n\r\n"
                let closed = try await RawHTTP.timeUntilClosed(
                    port: port,
                    writes: [head] + Array(repeating: "a", count: 11),
                    interval: .seconds(1),
                    limit: .seconds(12)
                )
                let after = try #require(closed, "the slow body was still being read after 12 s")
                #expect(after >= .milliseconds(1500), "closed after \(after), not before the timeout")
                #expect(after < .seconds(5), "closed after \(after), before the 5 s idle timeout could")
            }
            #expect(h.logs.all.contains { $0.contains("request body took longer than 2 s") })
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await H.run { h in
            try await h.withLiveService(["http.idleTimeoutSeconds": "2"]) { port in
                let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                let closed = try await RawHTTP.timeUntilClosed(port: port, writes: [request], interval: .zero, limit: .seconds(10))
                let after = try #require(closed, "the idle connection was still open after 10 s")
                #expect(after >= .milliseconds(1500) && after < .seconds(5), "closed after \(after)")
            }
        }
    }

    @Test func aPromptRequestIsAnsweredAsUsual() async throws {
        try await H.run { h in
            try await h.withLiveService(["http.idleTimeoutSeconds": "2", "http.bodyTimeoutSeconds": "2"]) { port in
                let page = try await RawHTTP.request("/", port: port)
                let file = try await RawHTTP.request("/assets/style.css", port: port)
                #expect(page.status == 200 && file.status == 200, "\(page)\n\(file)")
            }
        }
    }

    @Test func aRequestHeadOverTheLimitIsRefused() async throws {
        try await H.run { h in
            try await h.withLiveService(["http.maxHeaderBytes": "4096"]) { port in
                let big = try await RawHTTP.request("/", port: port, headers: ["X-Big: " + String(repeating: "a", count: 5000)])
                #expect(big.status == 400, "\(big)")
                let fits = try await RawHTTP.request("/", port: port, headers: ["X-Fits: " + String(repeating: "a", count: 3000)])
                #expect(fits.status == 200, "\(fits)")
            }
        }
    }

    @Test(arguments: [
        ("http.idleTimeoutSeconds", "0"), ("http.idleTimeoutSeconds", "3601"), ("http.idleTimeoutSeconds", "soon"),
        ("http.bodyTimeoutSeconds", "0"), ("http.maxHeaderBytes", "1024"), ("http.maxHeaderBytes", "2000000"),
    ])
    func anOutOfRangeLimitStopsTheStart(key: String, value: String) async throws {
        try await H.run { h in
            #expect {
                try h.configuration([key: value])
            } throws: { error in
                "\(error)".hasPrefix(key) && "\(error)".contains("must be")
            }
        }
    }

    @Test func theDefaultsAreThirtySecondsAndSixteenKiB() async throws {
        try await H.run { h in
            let edge = try h.configuration().edge
            #expect(edge.idleTimeout == .seconds(30))
            #expect(edge.bodyTimeout == .seconds(30))
            #expect(edge.maxHeaderBytes == 16384)
        }
    }
}
