import AsyncHTTPClient
import Foundation
import Testing

/// Runs the built `square-onboard demo` on free ports, waits until it answers, and stops it with SIGTERM.
func withDemo(_ body: (_ base: String, _ emulatorPort: Int) async throws -> Void) async throws {
    try await withDemoAndConsole { base, emulatorPort, _ in try await body(base, emulatorPort) }
}

/// The same, also handing `body` what the demo printed so far (the admin's one-time password is there).
func withDemoAndConsole(_ body: (_ base: String, _ emulatorPort: Int, _ console: () -> String) async throws -> Void) async throws {
    let executable = try BuiltExecutable.path()
    // Free ports are only free when asked: another test may take one first, so a demo that could not listen is
    // started again on new ports (and its console says why).
    var started: (demo: Process, port: Int, emulatorPort: Int, data: String, consoleLog: String, output: FileHandle)?
    var failures: [String] = []
    for _ in 1...3 where started == nil {
        let port = try await freeLoopbackPort()
        var emulatorPort = try await freeLoopbackPort()
        while emulatorPort == port { emulatorPort = try await freeLoopbackPort() }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("so-demo-\(port)").path
        let demo = Process()
        demo.executableURL = URL(fileURLWithPath: executable)
        demo.arguments = ["demo", "--port", "\(port)", "--emulator-port", "\(emulatorPort)", "--data-directory", data]
        demo.currentDirectoryURL = URL(fileURLWithPath: ServiceHarness.packageRoot)
        // A file, not a pipe: a pipe nobody reads fills up and blocks the demo's logging.
        let consoleLog = data + ".console.log"
        _ = FileManager.default.createFile(atPath: consoleLog, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: consoleLog))
        demo.standardOutput = output
        demo.standardError = output
        try demo.run()
        if try await demoListens(on: port, console: consoleLog, while: demo) {
            started = (demo, port, emulatorPort, data, consoleLog, output)
        } else {
            await stop(demo)
            try? output.close()
            failures.append((try? String(contentsOfFile: consoleLog, encoding: .utf8)).map { String($0.suffix(1500)) } ?? "")
            try? FileManager.default.removeItem(atPath: consoleLog)
            try? FileManager.default.removeItem(atPath: data)
        }
    }
    guard let (demo, port, emulatorPort, data, consoleLog, output) = started else {
        throw WebDriverError.notAnswering("the demo, started 3 times; its console said:\n" + failures.joined(separator: "\n---\n"))
    }
    defer { try? FileManager.default.removeItem(atPath: data) }
    defer { try? FileManager.default.removeItem(atPath: consoleLog) }
    defer { try? output.close() }
    let base = "http://127.0.0.1:\(port)"
    do {
        try await body(base, emulatorPort) { (try? String(contentsOfFile: consoleLog, encoding: .utf8)) ?? "" }
    } catch {
        await stop(demo)
        throw error
    }
    let stoppedBySIGTERM = await stop(demo)
    #expect(stoppedBySIGTERM, "the demo stops within 10 s of SIGTERM")
    let printed = (try? String(contentsOfFile: consoleLog, encoding: .utf8)) ?? ""
    #expect(printed.contains("Open            \(base)/"))
    #expect(demo.terminationStatus == 0, "the demo stops cleanly on SIGTERM:\n\(printed)")
    #expect(!printed.contains("EAAA") && !printed.contains("EQAA"), "no token in the demo's console output")
}

/// Whether the demo says it runs and `/healthz` on its port answers 200, waiting up to 60 s (a loaded machine starts
/// it slowly). Another test's server may take the port between `freeLoopbackPort()` and the demo's bind: that server
/// then answers on the port, but the demo never says it runs (it stops, and is started again on new ports).
func demoListens(on port: Int, console: String, while process: Process) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline && process.isRunning {
        let said = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
        if said.contains("square-onboard demo is running."),
            let response = try? await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"),
                timeout: .seconds(2)
            ),
            response.status == .ok
        {
            return process.isRunning
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    return false
}
