import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// A minimal W3C WebDriver client for chromedriver driving headless Chromium.
struct WebDriver {
    let base: String
    let session: String
    let http: HTTPClient

    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: chromium) && FileManager.default.isExecutableFile(atPath: chromedriver)
    }

    /// Starts chromedriver on `port`, opens a headless session, runs `body`, and cleans everything up.
    static func withSession(port: Int, _ body: (WebDriver) async throws -> Void) async throws {
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: chromedriver)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        let http = HTTPClient.shared
        let base = "http://127.0.0.1:\(port)"
        try await waitUntilAnswering(base + "/status", http: http)
        let capabilities = """
            {"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{"binary":"\(chromium)",
            "args":["--headless=new","--no-sandbox","--disable-gpu","--disable-dev-shm-usage","--window-size=1100,900"]}}}}
            """
        var session: String?
        do {
            let created = try await call(http, .POST, base + "/session", body: capabilities)
            session = try #require((created["value"] as? [String: Any])?["sessionId"] as? String)
            try await body(WebDriver(base: base, session: session!, http: http))
        } catch {
            if let session { _ = try? await call(http, .DELETE, "\(base)/session/\(session)", timeout: .seconds(10)) }
            await stop(driver)
            throw error
        }
        _ = try? await call(http, .DELETE, "\(base)/session/\(session!)", timeout: .seconds(10))
        await stop(driver)
    }

    func open(_ url: String) async throws {
        _ = try await command(.POST, "/url", body: json(["url": url]))
    }

    var currentURL: String {
        get async throws { try await command(.GET, "/url")["value"] as? String ?? "" }
    }

    var title: String {
        get async throws { try await command(.GET, "/title")["value"] as? String ?? "" }
    }

    /// Waits up to `timeout` for an element matching `css` and returns its id.
    func element(_ css: String, timeout: Duration = .seconds(10)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let answer = try await command(.POST, "/element", body: json(["using": "css selector", "value": css]), allowError: true)
            if let value = answer["value"] as? [String: Any], let id = value.values.first as? String, value["error"] == nil {
                return id
            }
            guard ContinuousClock.now < deadline else {
                let url = (try? await currentURL) ?? "?"
                // What the page said instead, so a failure under load can be told apart from a wrong page.
                let source = (try? await command(.GET, "/source")["value"] as? String) ?? ""
                throw WebDriverError.noSuchElement(css: css, url: url + " showing: " + String(source.prefix(600)))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Clicks the element matching `css` and waits until the page it was on has been replaced: every click in these
    /// tests navigates, and reading the next page before that would read the old one.
    func click(_ css: String) async throws {
        let page = try await element("html")
        _ = try await onFreshElement(css) { id in try await command(.POST, "/element/\(id)/click", body: "{}") }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let answer = try await command(.GET, "/element/\(page)/name", allowError: true)
            if (answer["value"] as? [String: Any])?["error"] as? String == "stale element reference" { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WebDriverError.noNavigation(after: css, url: (try? await currentURL) ?? "?")
    }

    /// Clicks the element matching `css` without waiting for a navigation (a button that opens a popup).
    func press(_ css: String) async throws {
        _ = try await onFreshElement(css) { id in try await command(.POST, "/element/\(id)/click", body: "{}") }
    }

    /// The handles of the session's open windows.
    var windowHandles: [String] {
        get async throws { try await command(.GET, "/window/handles")["value"] as? [String] ?? [] }
    }

    /// The handle of the window commands go to.
    var windowHandle: String {
        get async throws { try await command(.GET, "/window")["value"] as? String ?? "" }
    }

    /// Sends later commands to the window `handle`.
    func switchToWindow(_ handle: String) async throws {
        _ = try await command(.POST, "/window", body: json(["handle": handle]))
    }

    /// Waits up to `timeout` until the session has `count` windows; returns their handles.
    func waitForWindows(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let handles = try await windowHandles
            if handles.count == count { return handles }
            guard ContinuousClock.now < deadline else { throw WebDriverError.notAnswering("\(count) windows (there are \(handles.count))") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Types `text` into the field matching `css`, after clearing it.
    func type(_ text: String, into css: String) async throws {
        try await onFreshElement(css) { id in
            _ = try await command(.POST, "/element/\(id)/clear", body: "{}")
            _ = try await command(.POST, "/element/\(id)/value", body: json(["text": text]))
        }
    }

    func text(_ css: String) async throws -> String {
        try await onFreshElement(css) { id in try await command(.GET, "/element/\(id)/text")["value"] as? String ?? "" }
    }

    /// Runs `action` on the element matching `css`, finding it again if a navigation replaced the page in between
    /// (the previous click's page can still be there when the element is found, and gone when it is used).
    private func onFreshElement<T>(_ css: String, _ action: (String) async throws -> T) async throws -> T {
        var attempts = 0
        while true {
            let id = try await element(css)
            do {
                return try await action(id)
            } catch WebDriverError.failed(_, _, let answer) where answer.contains("stale element reference") && attempts < 50 {
                attempts += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Saves a PNG of the viewport under `screenshots/` in the package (ignored by git).
    func screenshot(_ name: String, in directory: String) async throws {
        let encoded = try await command(.GET, "/screenshot")["value"] as? String ?? ""
        let data = try #require(Data(base64Encoded: encoded))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: directory).appendingPathComponent(name + ".png"))
    }

    private func command(_ method: HTTPMethod, _ path: String, body: String? = nil, allowError: Bool = false) async throws -> [String: Any] {
        try await Self.call(http, method, "\(base)/session/\(session)\(path)", body: body, allowError: allowError)
    }

    private func json(_ object: [String: String]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    static func call(
        _ http: HTTPClient,
        _ method: HTTPMethod,
        _ url: String,
        body: String? = nil,
        allowError: Bool = false,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 32 * 1024 * 1024)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
        if response.status.code >= 400 && !allowError {
            throw WebDriverError.failed(url: url, status: Int(response.status.code), answer: String(buffer: bytes).prefix(300).description)
        }
        return object
    }

    static func waitUntilAnswering(
        _ url: String,
        http: HTTPClient,
        timeout: Duration = .seconds(30),
        while process: Process? = nil
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let process, !process.isRunning {
                throw WebDriverError.notStarted("\(url) did not answer: its process exited with status \(process.terminationStatus)")
            }
            if let response = try? await http.execute(HTTPClientRequest(url: url), timeout: .seconds(2)), response.status.code < 500 {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw WebDriverError.notAnswering(url)
    }
}

enum WebDriverError: Error, CustomStringConvertible {
    case noSuchElement(css: String, url: String)
    case failed(url: String, status: Int, answer: String)
    case notAnswering(String)
    case noNavigation(after: String, url: String)
    case notStarted(String)

    var description: String {
        switch self {
        case .noNavigation(let css, let url): "clicking '\(css)' on \(url) did not leave the page"
        case .noSuchElement(let css, let url): "no element '\(css)' on \(url)"
        case .failed(let url, let status, let answer): "WebDriver \(url) answered \(status): \(answer)"
        case .notAnswering(let url): "\(url) did not answer"
        case .notStarted(let why): why
        }
    }
}

/// Stops a child process with SIGTERM, then SIGKILL after `grace`, without blocking a concurrency thread.
///
/// chromedriver sometimes ignores SIGTERM while its browser shuts down, and `waitUntilExit` would then hang the run.
@discardableResult
func stop(_ process: Process, grace: Duration = .seconds(10)) async -> Bool {
    guard process.isRunning else { return true }
    process.terminate()
    let deadline = ContinuousClock.now + grace
    while process.isRunning, ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(50))
    }
    guard process.isRunning else { return true }
    kill(process.processIdentifier, SIGKILL)
    while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
    return false
}

/// A free TCP port on loopback, found by binding port 0 and letting it go.
func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}
