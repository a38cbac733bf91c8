import Foundation

/// Square's timestamps (`2026-12-24T10:00:00Z`, with or without fractional seconds).
enum SquareDate {
    /// The date in an RFC 3339 timestamp, or nil when the text is not one.
    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
