import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Onboarding

/// Starting and finishing authorizations is limited per client; one client's flood does not reach another.
@Suite("Rate limits on POST /oauth/start and GET /oauth/callback")
struct RateLimitTests {
    typealias H = ServiceHarness

    /// A CSRF double-submit pair any client can make for itself: the cookie and the form carry the same value.
    static let csrf = String(repeating: "A", count: 43)

    /// A raw `POST /oauth/start` with a valid double-submit token, from `source`, with extra header lines.
    static func rawStart(port: Int, from source: String = "127.0.0.1", headers: [String] = []) async throws -> RawHTTP.Answer {
        try await RawHTTP.request(
            "/oauth/start",
            method: "POST",
            port: port,
            headers: ["Cookie: so_csrf=\(csrf)", "Content-Type: application/x-www-form-urlencoded"] + headers,
            body: "csrf_token=\(csrf)",
            from: source
        )
    }

    /// A `POST /oauth/start` through the router with a valid token and extra headers.
    static func start(_ browser: Browser, csrf: String, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.cookie] = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        return try await browser.client.execute(
            uri: "/oauth/start",
            method: .post,
            headers: headers,
            body: ByteBuffer(string: "csrf_token=\(csrf)")
        )
    }

    @Test func aBurstOf300StartsCreatesOnlyTheDefaultLimitOfAuthorizations() async throws {
        let limit = try #require(Int(Setting.rateLimitStartPerMinute.defaultText))
        try await H.run { h in
            try await h.withService(["rateLimit.startPerMinute": Setting.rateLimitStartPerMinute.defaultText]) { browser in
                let csrf = try await browser.csrfToken(on: "/")
                let started = ContinuousClock.now
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<300 { group.addTask { try await Self.start(browser, csrf: csrf).status } }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .seeOther }.count == limit)
                #expect(statuses.filter { $0 == .tooManyRequests }.count == 300 - limit)
                #expect(try await h.database().counts().authorizations == limit)
                #expect(ContinuousClock.now - started < .seconds(60), "the burst fits in the limit's minute")
            }
            #expect(h.logs.all.filter { $0.contains("rate-limited") }.count == 1, "a flood is logged once")
        }
    }

    @Test func overTheLimitTheAnswerIsThe429PageWithRetryAfter() async throws {
        try await H.run { h in
            try await h.withService(["rateLimit.startPerMinute": "5"]) { browser in
                let csrf = try await browser.csrfToken(on: "/")
                var statuses: [HTTPResponse.Status] = []
                var last: TestResponse?
                for _ in 0..<7 {
                    let answer = try await Self.start(browser, csrf: csrf)
                    statuses.append(answer.status)
                    last = answer
                }
                #expect(statuses == Array(repeating: .seeOther, count: 5) + [.tooManyRequests, .tooManyRequests])
                let page = try #require(last)
                // 5 a minute: a token comes back every 12 s.
                let retryAfter = try #require(page.headers[.retryAfter].flatMap { Int($0) })
                #expect((1...12).contains(retryAfter))
                #expect(page.headers[.location] == nil)
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(page.html.contains("Too many attempts"))
                #expect(page.html.contains("Please wait \(retryAfter) seconds and try again."))
                #expect(page.html.contains("Error 429"))
                #expect(try await h.database().counts().authorizations == 5)
                #expect(try await browser.get("/").status == .ok, "the connect page itself is not limited")
            }
        }
    }

    @Test func callbacksOverTheLimitAreRefusedBeforeTheStateIsLookedUp() async throws {
        try await H.run { h in
            try await h.withService(["rateLimit.callbackPerMinute": "3"]) { browser in
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<5 { statuses.append(try await browser.get("/oauth/callback?state=nope&code=x").status) }
                #expect(statuses == [.badRequest, .badRequest, .badRequest, .tooManyRequests, .tooManyRequests])
                // The start limit is separate.
                #expect(try await browser.pressConnect().status == .seeOther)
            }
        }
    }

    @Test func anotherClientAddressIsNotAffectedAndAnUnconfiguredHeaderIsIgnored() async throws {
        try await H.run { h in
            try await h.withLiveService(["rateLimit.startPerMinute": "2"]) { port in
                var statuses: [Int?] = []
                for _ in 0..<3 { statuses.append(try await Self.rawStart(port: port).status) }
                #expect(statuses == [303, 303, 429])
                let spoofed = try await Self.rawStart(port: port, headers: ["X-Forwarded-For: 198.51.100.9", "X-Real-IP: 198.51.100.9"])
                #expect(spoofed.status == 429, "a header nobody configured does not make a new client")
                #expect(spoofed.header("retry-after").flatMap { Int($0) } != nil)
                let other = try await Self.rawStart(port: port, from: "127.0.0.2")
                #expect(other.status == 303, "\(other)")
                #expect(try await h.database().counts().authorizations == 3)
            }
        }
    }

    @Test func theConfiguredHeaderNamesTheClientAndOnlyItsLastAddressCounts() async throws {
        try await H.run { h in
            let settings = ["rateLimit.startPerMinute": "2", "http.clientAddressHeader": "X-Forwarded-For"]
            try await h.withService(settings) { browser in
                let csrf = try await browser.csrfToken(on: "/")
                func start(_ forwarded: String) async throws -> HTTPResponse.Status {
                    try await Self.start(browser, csrf: csrf, headers: [.init("X-Forwarded-For")!: forwarded]).status
                }
                #expect(try await start("203.0.113.1") == .seeOther)
                #expect(try await start("203.0.113.1:5123") == .seeOther)
                #expect(try await start("203.0.113.1") == .tooManyRequests)
                // What the client wrote before the proxy's entry does not count.
                #expect(try await start("192.0.2.50, 203.0.113.1") == .tooManyRequests)
                #expect(try await start("203.0.113.1, 203.0.113.2") == .seeOther)
                #expect(try await start("203.0.113.2") == .seeOther)
                #expect(try await start("203.0.113.2") == .tooManyRequests)
            }
            try await h.withLiveService(settings) { port in
                var statuses: [Int?] = []
                for _ in 0..<3 { statuses.append(try await Self.rawStart(port: port, headers: ["X-Forwarded-For: 203.0.113.7"]).status) }
                // Without the header (the proxy's own requests), the peer's address is the client.
                statuses.append(try await Self.rawStart(port: port).status)
                #expect(statuses == [303, 303, 429, 303])
            }
        }
    }

    @Test func withoutTheHeaderSettingForwardedAddressesShareOneLimit() async throws {
        try await H.run { h in
            try await h.withService(["rateLimit.startPerMinute": "2"]) { browser in
                let csrf = try await browser.csrfToken(on: "/")
                var statuses: [HTTPResponse.Status] = []
                for index in 1...3 {
                    let headers: HTTPFields = [.init("X-Forwarded-For")!: "203.0.113.\(index)"]
                    statuses.append(try await Self.start(browser, csrf: csrf, headers: headers).status)
                }
                #expect(statuses == [.seeOther, .seeOther, .tooManyRequests])
            }
        }
    }

    @Test func zeroTurnsALimitOff() async throws {
        try await H.run { h in
            try await h.withService(["rateLimit.startPerMinute": "0", "rateLimit.callbackPerMinute": "0"]) { browser in
                let csrf = try await browser.csrfToken(on: "/")
                for _ in 0..<30 { #expect(try await Self.start(browser, csrf: csrf).status == .seeOther) }
            }
        }
    }

    @Test(arguments: [
        ("rateLimit.startPerMinute", "-1"), ("rateLimit.startPerMinute", "many"), ("rateLimit.callbackPerMinute", "100001"),
        ("http.clientAddressHeader", "X Forwarded For"), ("http.clientAddressHeader", "X-Forwarded-For:"),
    ])
    func aBadLimitSettingStopsTheStart(key: String, value: String) async throws {
        try await H.run { h in
            #expect {
                try h.configuration([key: value])
            } throws: { error in
                "\(error)".hasPrefix(key) && "\(error)".contains("must be")
            }
        }
    }
}

/// The token bucket and the client key on their own.
@Suite("RateLimiter and ClientAddress")
struct RateLimiterTests {
    /// A clock the test moves.
    final class ManualClock: Sendable {
        let instant = Mutex(ContinuousClock.now)
        func advance(by duration: Duration) { instant.withLock { $0 += duration } }
        var now: @Sendable () -> ContinuousClock.Instant { { self.instant.withLock { $0 } } }
    }

    @Test func aBurstThenOneTokenPerSixtiethOfTheLimit() {
        let clock = ManualClock()
        let limiter = RateLimiter(perMinute: 6, now: clock.now)
        for _ in 0..<6 { #expect(limiter.take(for: "a") == .allowed) }
        #expect(limiter.take(for: "a") == .limited(retryAfterSeconds: 10, isFirst: true))
        clock.advance(by: .seconds(4))
        #expect(limiter.take(for: "a") == .limited(retryAfterSeconds: 6, isFirst: false))
        #expect(limiter.take(for: "b") == .allowed, "another client has its own bucket")
        clock.advance(by: .seconds(6))
        #expect(limiter.take(for: "a") == .allowed)
        #expect(limiter.take(for: "a") == .limited(retryAfterSeconds: 10, isFirst: true))
        clock.advance(by: .seconds(3600))
        for _ in 0..<6 { #expect(limiter.take(for: "a") == .allowed, "an idle bucket refills to the burst, no further") }
        #expect(limiter.take(for: "a") != .allowed)
    }

    @Test func idleClientsAreForgottenFirstAndMemoryStaysBounded() {
        let clock = ManualClock()
        let limiter = RateLimiter(perMinute: 6, maxClients: 4, now: clock.now)
        for name in ["a", "b", "c", "d"] {
            _ = limiter.take(for: name)
            clock.advance(by: .seconds(1))
        }
        #expect(limiter.clientCount == 4)
        // Nobody has refilled: the least recently seen half goes.
        _ = limiter.take(for: "e")
        #expect(limiter.clientCount == 3)
        clock.advance(by: .seconds(120))
        _ = limiter.take(for: "x")
        #expect(limiter.clientCount == 4)
        // Everyone but x has refilled: they carry nothing and go.
        _ = limiter.take(for: "y")
        #expect(limiter.clientCount == 2)
        for index in 0..<1000 { _ = limiter.take(for: "spray-\(index)") }
        #expect(limiter.clientCount <= 4)
    }

    @Test(arguments: [
        ("203.0.113.7", "203.0.113.7"), (" 203.0.113.7:5123", "203.0.113.7"), ("2001:db8::1", "2001:db8:0:0::/64"),
        ("[2001:db8:1:2:3::1]:443", "2001:db8:1:2::/64"), ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
    ])
    func aProxyHeaderAddressIsKeyedByHostOrIPv6Network(text: String, key: String) {
        #expect(ClientAddress.key(parsing: text[...]) == key)
    }

    @Test(arguments: ["", "unknown", "1.2.3.4.5", "evil.example", "_hidden", String(repeating: "1", count: 100)])
    func anythingElseInTheHeaderIsNotAnAddress(text: String) {
        #expect(ClientAddress.key(parsing: text[...]) == nil)
    }

    static func request(_ headers: HTTPFields) -> Request {
        Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "127.0.0.1", path: "/oauth/start", headerFields: headers),
            body: RequestBody(buffer: ByteBuffer())
        )
    }

    @Test func theHeaderCountsOnlyWhenConfiguredAndParsable() throws {
        let peer = try SocketAddress(ipAddress: "192.0.2.1", port: 40000)
        let forwarded = Self.request([.init("X-Forwarded-For")!: "198.51.100.1, 198.51.100.2"])
        #expect(ClientAddress(trustedHeader: nil).key(for: forwarded, peer: peer) == "192.0.2.1")
        let proxied = ClientAddress(trustedHeader: .init("X-Forwarded-For")!)
        #expect(proxied.key(for: forwarded, peer: peer) == "198.51.100.2")
        #expect(proxied.key(for: Self.request([.init("X-Forwarded-For")!: "garbage"]), peer: peer) == "192.0.2.1")
        #expect(proxied.key(for: Self.request([:]), peer: peer) == "192.0.2.1")
        #expect(proxied.key(for: Self.request([:]), peer: nil) == "unknown")
        let mapped = try SocketAddress(ipAddress: "::ffff:192.0.2.9", port: 1)
        #expect(ClientAddress(trustedHeader: nil).key(for: Self.request([:]), peer: mapped) == "192.0.2.9")
    }
}
