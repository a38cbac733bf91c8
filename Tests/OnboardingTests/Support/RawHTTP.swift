import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// TCP connections to the service on a loopback port that send bytes exactly as given, from a chosen loopback address.
///
/// No HTTP client stands between the test and the server, so nothing normalises a path (`//%00@…`) or a header,
/// and another address of 127.0.0.0/8 stands for another client.
enum RawHTTP {
    /// What the server wrote before it closed the connection, parsed just enough.
    struct Answer: Sendable, CustomStringConvertible {
        let text: String

        /// The status code of the first response, or nil if the server answered nothing.
        var status: Int? {
            let line = text.prefix { $0 != "\r" && $0 != "\n" }
            let parts = line.split(separator: " ")
            return parts.count >= 2 && parts[0].hasPrefix("HTTP/") ? Int(parts[1]) : nil
        }

        /// The first header of that name (compared case-insensitively).
        func header(_ name: String) -> String? {
            let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
            for line in head.components(separatedBy: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == name.lowercased() {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }

        var body: String { text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }

        var description: String { String(text.prefix(300)) }
    }

    /// Sends `request` as is and reads until the server closes the connection (or `timeout` passes).
    static func send(
        _ request: String,
        port: Int,
        from source: String = "127.0.0.1",
        timeout: Duration = .seconds(10)
    ) async throws
        -> Answer
    {
        let connection = try await connect(port: port, from: source)
        let channel = connection.channel
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            channel.close(promise: nil)
        }
        defer { watchdog.cancel() }
        return try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var received = ByteBuffer()
            do {
                for try await chunk in inbound { received.writeImmutableBuffer(chunk) }
            } catch {
                // A reset after the answer: what arrived is the answer.
            }
            return Answer(text: String(buffer: received))
        }
    }

    /// A request for `target`, sent byte for byte, with `Connection: close`.
    static func request(
        _ target: String,
        method: String = "GET",
        port: Int,
        headers: [String] = [],
        body: String = "",
        from source: String = "127.0.0.1"
    ) async throws -> Answer {
        var lines = ["\(method) \(target) HTTP/1.1", "Host: 127.0.0.1:8080", "Connection: close"] + headers
        if !body.isEmpty || method == "POST" { lines.append("Content-Length: \(body.utf8.count)") }
        return try await send(lines.joined(separator: "\r\n") + "\r\n\r\n" + body, port: port, from: source)
    }

    /// Writes `writes` one `interval` apart until the server closes the connection.
    ///
    /// Returns how long after connecting the server closed it, or nil if it was still open after `limit`.
    static func timeUntilClosed(port: Int, writes: [String], interval: Duration, limit: Duration) async throws -> Duration? {
        let connection = try await connect(port: port, from: "127.0.0.1")
        let channel = connection.channel
        let started = ContinuousClock.now
        let gaveUp = Mutex(false)
        let watchdog = Task {
            try await Task.sleep(for: limit)
            gaveUp.withLock { $0 = true }
            channel.close(promise: nil)
        }
        defer { watchdog.cancel() }
        let closedAfter = try await connection.executeThenClose { inbound, outbound in
            let writer = Task {
                for (index, part) in writes.enumerated() {
                    if index > 0 { try await Task.sleep(for: interval) }
                    try await outbound.write(ByteBuffer(string: part))
                }
            }
            defer { writer.cancel() }
            do {
                for try await _ in inbound {}
            } catch {
                // A reset is a close too.
            }
            return ContinuousClock.now - started
        }
        return gaveUp.withLock { $0 } ? nil : closedAfter
    }

    private static func connect(port: Int, from source: String) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }
}
