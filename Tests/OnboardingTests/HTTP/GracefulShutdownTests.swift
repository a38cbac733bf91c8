import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import OnboardCrypto
import ServiceLifecycle
import SquareEmulator
import TestSupport
import Testing

@testable import Onboarding

/// A shutdown finishes what is in progress: SIGTERM to `serve` mid-callback, the drain window, the refresher's refreshes.
@Suite("Graceful shutdown")
struct GracefulShutdownTests {
    /// `serve` on a loopback port against an emulator in this process: a callback held at Square when SIGTERM arrives
    /// gets its normal answer, `/readyz` says draining for `http.drainSeconds`, then connections are refused, and the
    /// process exits 0 saying it drained. Its JSON log lines carry the callback's request id, the Square client's too.
    @Test func sigtermFinishesTheCallbackInFlightThenExitsZero() async throws {
        let executable = try BuiltExecutable.path()
        // Another test's server may take the free port before `serve` binds it: then `serve` exits, and the scenario
        // starts again on another port (a server that is not ours never counts as started).
        for attempt in 1...3 {
            let port = try await freeLoopbackPort()
            do {
                try await Self.sigtermScenario(executable: executable, port: port)
                return
            } catch ServeStart.portTaken where attempt < 3 {
                continue
            }
        }
    }

    /// Whether `serve`'s log says it listens on `port` (Hummingbird's start line, as JSON).
    static func saysItListens(_ log: String, port: Int) -> Bool {
        log.split(separator: "\n").contains { $0.contains("Server started and listening on") && $0.contains(":\(port)") }
    }

    /// Why `serve` did not start.
    enum ServeStart: Error {
        case portTaken
    }

    /// The emulator and HTTP client of one try of the SIGTERM scenario on `port`.
    static func sigtermScenario(executable: String, port: Int) async throws {
        let base = "http://127.0.0.1:\(port)"
        let emulator = SquareEmulator(
            application: EmulatedApplication(
                name: "Drain Test",
                clientId: ServiceHarness.clientId,
                clientSecret: ServiceHarness.clientSecret,
                redirectURL: base + "/oauth/callback"
            )
        )
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("so-drain-\(SecureRandom.urlSafeToken(byteCount: 6))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            try await Self.sigtermScenario(executable: executable, port: port, emulator: emulator, folder: folder, http: http)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// The SIGTERM scenario; the caller shuts `http` down.
    static func sigtermScenario(executable: String, port: Int, emulator: SquareEmulator, folder: String, http: HTTPClient) async throws {
        let base = "http://127.0.0.1:\(port)"
        try await emulator.makeApplication().test(.live) { square in
            let emulatorPort = try #require(square.port)
            let keys = try KeyRing(keys: [("d1", .generate())]).serialized
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["serve"]
            process.environment = [
                "PATH": "/usr/bin:/bin", "HTTP_PORT": "\(port)", "SQUARE_ENVIRONMENT": "http://127.0.0.1:\(emulatorPort)",
                "SQUARE_CLIENT_ID": ServiceHarness.clientId, "SQUARE_CLIENT_SECRET": ServiceHarness.clientSecret,
                "DATA_DIRECTORY": folder + "/data", "RESOURCES_DIRECTORY": ServiceHarness.packageRoot, "ONBOARD_ENCRYPTION_KEYS": keys,
                "LOG_FORMAT": "json", "LOG_LEVEL": "debug", "HTTP_DRAIN_SECONDS": "3",
            ]
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            let logPath = folder + "/stderr.log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            defer { try? log.close() }
            (process.standardOutput, process.standardError) = (FileHandle.nullDevice, log)
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

            let logged = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
            do {
                try await WebDriver.waitUntilAnswering(base + "/healthz", http: http, while: process)
                // Answering is not enough: the server on the port must be this process, which says it listens there.
                try await Self.until("serve to say it listens on \(port)") { Self.saysItListens(logged(), port: port) || !process.isRunning }
                guard process.isRunning else { throw WebDriverError.notStarted("serve exited") }
            } catch {
                if logged().contains("Address already in use") { throw ServeStart.portTaken }
                throw WebDriverError.notStarted("\(error); it logged:\n" + logged())
            }
            #expect(try await Self.get(base + "/readyz", http: http).status == .ok)
            let harness = ServiceHarness(
                emulator: emulator,
                square: square,
                emulatorPort: emulatorPort,
                dataDirectory: folder + "/data",
                keys: keys,
                clock: TestClock(),
                logs: LogCollector()
            )
            let callback = try await Self.consentedCallback(base: base, harness: harness, http: http)

            // Square holds the token exchange for 6 s; SIGTERM arrives while the callback waits for it. The drain window
            // (3 s) leaves a loaded machine time for the checks made inside it.
            emulator.inject(.latency(milliseconds: 6000, path: "/oauth2/token"))
            let tokenCalls = emulator.callCount(path: "/oauth2/token")
            let inFlight = Task {
                var request = HTTPClientRequest(url: base + callback.path)
                request.headers.add(name: "Cookie", value: callback.cookies)
                request.headers.add(name: "X-Request-Id", value: "drain-test-callback")
                return try await http.execute(request, timeout: .seconds(30))
            }
            try await Self.until("Square got the token request") { emulator.callCount(path: "/oauth2/token") > tokenCalls }
            let signalled = ContinuousClock.now
            kill(process.processIdentifier, SIGTERM)

            try await Self.until("/readyz says draining") { try await Self.get(base + "/readyz", http: http).status != .ok }
            let draining = try await Self.get(base + "/readyz", http: http)
            #expect(draining.status == .serviceUnavailable)
            #expect(
                draining.body == #"{"status":"draining","checks":{"database":"ok","templates":"ok","encryptionKeys":"ok","shutdown":"draining"}}"#
            )
            #expect(try await Self.get(base + "/healthz", http: http).status == .ok, "still alive while draining")
            try await Self.until("new connections are refused") { await !Self.acceptsConnections(port: port) }
            let refusedAfter = ContinuousClock.now - signalled
            #expect(refusedAfter >= .seconds(3) && refusedAfter < .seconds(6), "refused after the drain window: \(refusedAfter)")

            let answer = try await inFlight.value
            #expect(answer.status == .seeOther, "the callback in flight got its normal answer")
            #expect(answer.headers["location"].first?.hasPrefix("/connection") == true)
            #expect(answer.headers["x-request-id"].first == "drain-test-callback")

            let deadline = ContinuousClock.now + .seconds(15)
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning, "exited within 15 s of SIGTERM")
            #expect(process.terminationStatus == 0)

            let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
            let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
            #expect(events.count == lines.count, "every stderr line is one JSON object: \(lines.filter { !$0.hasPrefix("{") })")
            let messages = events.map { $0["message"] ?? "" }
            let shutdown = try #require(messages.firstIndex { $0.hasPrefix("Shutting down") })
            let served = try #require(messages.firstIndex { $0 == "GET /oauth/callback 303" })
            let drained = try #require(messages.firstIndex { $0.hasPrefix("Drained") })
            #expect(shutdown < served && served < drained, "the callback finished during the drain, before the exit")

            let ofCallback = events.filter { $0["hb.request.id"] == "drain-test-callback" }.map { $0["message"] ?? "" }
            #expect(ofCallback.contains("Square call succeeded"), "the Square client's lines carry the request id: \(ofCallback)")
            #expect(ofCallback.contains("GET /oauth/callback 303"))

            let stored = try await AppDatabase.open(path: harness.databasePath).connection(environment: "custom", merchantId: "MLSANDBOXCAFE")
            #expect(stored?.status == .active, "the drained callback's connection was saved")
        }
    }

    /// The refresher, mid-pass when the application's shutdown begins, finishes the refreshes it started and starts no
    /// more, even while the HTTP side is still in its drain window; no connection is left half-refreshed.
    @Test func theRefresherFinishesItsRefreshesInFlightAndStartsNoMore() async throws {
        try await ServiceHarness.run { h in
            let merchants = ["MLSANDBOXCAFE", "MLSANDBOXBIKE", "MLSANDBOXBOOK"]
            try await h.connectMerchants(merchants)
            h.advanceTime(days: 8)
            var before: [String: String] = [:]
            for merchant in merchants {
                let access: String = try #require(try await h.tokens(merchant).access)
                before[merchant] = access
            }
            let logger = Logger(label: "service") { _ in CollectingLogHandler(collector: h.logs) }
            let configuration = try h.configuration([
                "http.port": "0", "http.drainSeconds": "3", "refresh.enabled": "true", "refresh.concurrency": "2",
            ])
            let app = try await buildApplication(configuration: configuration, clock: h.clock.appClock, logger: logger)
            h.emulator.inject(.latency(milliseconds: 1500, path: "/oauth2/token", count: nil))
            let calls = h.tokenCalls
            let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await Self.until("two refreshes in flight") { h.tokenCalls == calls + 2 }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            h.emulator.clearFaults()
            #expect(h.tokenCalls == calls + 2, "no refresh started after the shutdown began")
            var refreshed = 0
            for merchant in merchants {
                let stored = try await h.stored(merchant)
                let access = try #require(try await h.tokens(merchant).access)
                if access != before[merchant] { refreshed += 1 }
                #expect(stored.refreshLeaseUntil == nil, "\(merchant) holds no lease")
                #expect(await h.squareAccepts(accessToken: access), "\(merchant)'s stored token is the one Square knows")
            }
            #expect(refreshed == 2, "the two refreshes in flight were finished and stored")
            #expect(h.logs.all.contains { $0.contains("Drained") })
        }
    }

    @Test func theDrainWindowIsZeroByDefaultAndAtMostFiveMinutes() async throws {
        try await ServiceHarness.run { h in
            let (byDefault, longest) = (try h.configuration(), try h.configuration(["http.drainSeconds": "300"]))
            #expect(byDefault.edge.drainDelay == .zero && longest.edge.drainDelay == .seconds(300))
            #expect(throws: ConfigurationError.self) { try h.configuration(["http.drainSeconds": "301"]) }
            #expect(throws: ConfigurationError.self) { try h.configuration(["http.drainSeconds": "-1"]) }
        }
    }

    /// Polls `condition` every 20 ms for up to 10 s.
    static func until(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !condition() {
            try #require(ContinuousClock.now < deadline, "timed out waiting: \(what)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Whether a TCP connection to the port is accepted (a connection is opened and closed, nothing sent).
    static func acceptsConnections(port: Int) async -> Bool {
        guard let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        else { return false }
        try? await channel.close()
        return true
    }

    /// A plain GET on a new connection: status and body; throws when nothing accepts the connection.
    static func get(_ url: String, http: HTTPClient) async throws -> (status: HTTPResponseStatus, body: String) {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Connection", value: "close")
        let response = try await http.execute(request, timeout: .seconds(5))
        return (response.status, String(buffer: try await response.body.collect(upTo: 65536)))
    }

    /// Connect page → Connect → Square's consent (Allow): the callback's path and the browser's cookies.
    static func consentedCallback(base: String, harness: ServiceHarness, http: HTTPClient) async throws -> (path: String, cookies: String) {
        var cookies: [String: String] = [:]
        func keep(_ headers: HTTPHeaders) {
            for header in headers["set-cookie"] {
                let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) }
            }
        }
        let page = try await http.execute(HTTPClientRequest(url: base + "/"), timeout: .seconds(10))
        keep(page.headers)
        let html = String(buffer: try await page.body.collect(upTo: 1 << 20))
        let csrf = try #require(html.firstMatch(of: /name="csrf_token" value="([^"]+)"/)?.output.1)
        var start = HTTPClientRequest(url: base + "/oauth/start")
        start.method = .POST
        start.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        start.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        start.body = .bytes(ByteBuffer(string: "csrf_token=\(csrf)"))
        let started = try await http.execute(start, timeout: .seconds(10))
        #expect(started.status == .seeOther)
        keep(started.headers)
        let location = try #require(started.headers["location"].first)
        let callback = try await harness.consent(at: location)
        return (callback, cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
    }
}
