import Foundation
import Testing

/// The built `square-onboard`, found with `swift build --show-bin-path` once per test process, and a way to run it.
enum BuiltExecutable {
    /// The package checkout these tests belong to.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The build's products folder, as `swift build --show-bin-path` names it for this checkout (nil if that failed).
    static let binPath: String? = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--show-bin-path"]
        process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard process.terminationStatus == 0, let path = lines.last, path.hasPrefix("/") else { return nil }
        return String(path)
    }()

    /// The executable's path; the calling test fails with a hint when it is not built.
    static func path() throws -> String {
        let folder = try #require(binPath, "'swift build --show-bin-path' failed in \(packageRoot)")
        let executable = folder + "/square-onboard"
        try #require(FileManager.default.isExecutableFile(atPath: executable), "build first: swift build (looked for \(executable))")
        return executable
    }

    /// What a run printed and how it exited.
    struct Run {
        var exitCode: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `square-onboard arguments` with only `environment` in `directory`, as an operator's shell would, and waits.
    ///
    /// `input` is its standard input (a file, not a terminal); nil leaves the test process's own.
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil, input: String? = nil) throws -> Run {
        try run(program: try path(), arguments, environment: environment, in: directory, input: input)
    }

    /// Runs `program` (for example `/usr/bin/script` around `square-onboard`) the same way.
    static func run(
        program: String,
        _ arguments: [String],
        environment: [String: String],
        in directory: String?,
        input: String? = nil
    ) throws -> Run {
        let directory = directory ?? FileManager.default.temporaryDirectory.path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        // Files, not pipes: nothing can block on a full pipe while the other is being read.
        let base = directory + "/command-\(UUID().uuidString)"
        let (outPath, errPath) = (base + ".stdout", base + ".stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        if let input {
            let inPath = base + ".stdin"
            _ = FileManager.default.createFile(atPath: inPath, contents: Data(input.utf8))
            // The open handle keeps the file readable after its name is gone.
            defer { try? FileManager.default.removeItem(atPath: inPath) }
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        }
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Run(
            exitCode: process.terminationStatus,
            stdout: try String(contentsOfFile: outPath, encoding: .utf8),
            stderr: try String(contentsOfFile: errPath, encoding: .utf8)
        )
    }
}
