import Foundation

/// One event for a partner in the webhook outbox, and how its delivery is going.
struct WebhookDeliveryRecord: Codable, Sendable, Equatable {
    /// `msg_…`: the Standard Webhooks `webhook-id`, the same on every attempt, for the partner to deduplicate on.
    var id: String
    var partnerId: String
    var type: String
    /// The merchant the event is about; nil for a link that ended before a merchant was known.
    var merchantId: String?
    /// The JSON body sent, `{"type","timestamp","data"}`; never holds a token.
    var payload: String
    var createdAt: Date
    var attempts: Int
    /// When to try next; nil means now. While an attempt runs it holds the attempt's lease end.
    var nextAttemptAt: Date?
    var deliveredAt: Date?
    /// Given up on after the retry window; an operator can send it again.
    var failedAt: Date?
    var lastStatus: Int?
    var lastError: String?

    /// Delivered, given up on, or still being tried.
    var state: String { deliveredAt != nil ? "delivered" : (failedAt != nil ? "failed" : "pending") }
}
