import Foundation

/// A failure the emulator injects into its API answers, so callers can prove their behaviour under failure.
public struct EmulatorFault: Sendable, Codable, Equatable {
    /// What goes wrong.
    public enum Kind: String, Sendable, Codable {
        /// Wait `latencyMilliseconds` before answering normally.
        case latency
        /// Answer `status` (500, 503, 429, ...) with Square's error envelope.
        case status
        /// Answer 200 with a body that is not JSON.
        case malformedBody = "malformed_body"
        /// Close the connection without a complete answer.
        case closeConnection = "close_connection"
    }

    public var kind: Kind
    /// Path prefix it applies to (`/oauth2/token`); nil means every API path except the consent pages.
    public var path: String?
    public var status: Int?
    public var latencyMilliseconds: Int?
    /// Do the real work first (a code redeemed, a refresh token consumed), then fail: "Square consumed it, then failed".
    public var afterProcessing: Bool
    /// How many matching requests it hits; nil until cleared.
    public var count: Int?

    enum CodingKeys: String, CodingKey {
        case kind, path, status
        case latencyMilliseconds = "latency_ms"
        case afterProcessing = "after_processing"
        case count
    }

    public init(
        kind: Kind,
        path: String? = nil,
        status: Int? = nil,
        latencyMilliseconds: Int? = nil,
        afterProcessing: Bool = false,
        count: Int? = nil
    ) {
        self.kind = kind
        self.path = path
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
        self.afterProcessing = afterProcessing
        self.count = count
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.kind = try container.decode(Kind.self, forKey: .kind)
        self.path = try container.decodeIfPresent(String.self, forKey: .path)
        self.status = try container.decodeIfPresent(Int.self, forKey: .status)
        self.latencyMilliseconds = try container.decodeIfPresent(Int.self, forKey: .latencyMilliseconds)
        self.afterProcessing = try container.decodeIfPresent(Bool.self, forKey: .afterProcessing) ?? false
        self.count = try container.decodeIfPresent(Int.self, forKey: .count)
    }

    /// Answer `status` to the next `count` calls to `path`.
    public static func status(_ status: Int, path: String? = nil, count: Int? = 1, afterProcessing: Bool = false) -> Self {
        EmulatorFault(kind: .status, path: path, status: status, afterProcessing: afterProcessing, count: count)
    }

    /// Delay the next `count` calls to `path`; `afterProcessing` does the work first and delays only the answer.
    public static func latency(milliseconds: Int, path: String? = nil, count: Int? = 1, afterProcessing: Bool = false) -> Self {
        EmulatorFault(
            kind: .latency,
            path: path,
            latencyMilliseconds: milliseconds,
            afterProcessing: afterProcessing,
            count: count
        )
    }

    /// Answer garbage to the next `count` calls to `path`.
    public static func malformedBody(path: String? = nil, count: Int? = 1, afterProcessing: Bool = false) -> Self {
        EmulatorFault(kind: .malformedBody, path: path, afterProcessing: afterProcessing, count: count)
    }

    /// Drop the connection on the next `count` calls to `path`.
    public static func closeConnection(path: String? = nil, count: Int? = 1, afterProcessing: Bool = false) -> Self {
        EmulatorFault(kind: .closeConnection, path: path, afterProcessing: afterProcessing, count: count)
    }

    /// Whether this fault is valid to install; returns the problem when not.
    var problem: String? {
        switch kind {
        case .status: (status.map { (400...599).contains($0) } ?? false) ? nil : "status faults need a status from 400 to 599"
        case .latency: (latencyMilliseconds.map { (1...120_000).contains($0) } ?? false) ? nil : "latency_ms must be 1 to 120000"
        case .malformedBody, .closeConnection: nil
        }
    }

    func matches(path requestPath: String) -> Bool {
        if let path { return requestPath.hasPrefix(path) }
        return requestPath.hasPrefix("/oauth2/") && !requestPath.hasPrefix("/oauth2/authorize")
    }
}
