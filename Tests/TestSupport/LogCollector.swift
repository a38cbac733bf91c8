import Logging
import Synchronization

/// Every line written to it, in order: log lines (message and metadata) or a command's output, for secrecy checks.
public final class LogCollector: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public func append(_ line: String) { lines.withLock { $0.append(line) } }

    public var all: [String] { lines.withLock { $0 } }
}

/// Writes each log event as one line, `level message [key=value, …]`, metadata sorted, into a `LogCollector`.
public struct CollectingLogHandler: LogHandler {
    public let collector: LogCollector
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(collector: LogCollector) {
        self.collector = collector
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var line = "\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" })"
        if let error = event.error { line += " error=\(error)" }
        collector.append(line)
    }
}
