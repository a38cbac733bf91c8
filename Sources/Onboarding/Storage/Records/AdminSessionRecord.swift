import Foundation

/// A signed-in admin browser: the cookie only as its SHA-256 hash, the forms' CSRF token, and when it ends.
struct AdminSessionRecord: Codable, Sendable, Equatable {
    var sessionHash: String
    var adminUserId: Int64
    var csrfToken: String
    var createdAt: Date
    var lastSeenAt: Date
    /// Ends the session when no request comes before it; moved forward by each request, never past `expiresAt`.
    var idleExpiresAt: Date
    /// The absolute end, however active the session is.
    var expiresAt: Date

    /// Whether the session still lets its browser in at `now`.
    func isLive(at now: Date) -> Bool { now < idleExpiresAt && now < expiresAt }
}
