import Foundation
import OnboardCrypto

/// The events partners receive: which change makes which event, their bodies, and how long they are kept to replay.
///
/// A storage engine calls `connectionChanged` and `linkCompleted` inside the transaction that changes the row and
/// queues what they return for the partner (when it has a webhook URL), so no event is lost and none is made for a
/// change that rolled back.
enum PartnerEvents {
    static let retentionDays = 30
    static let retention = TimeInterval(retentionDays) * 86_400

    /// The event types partners receive (the partner API's `GET /events?type=` names one).
    static let types = [
        "connection.created", "connection.reconnected", "connection.refreshed", "connection.refresh_failed",
        "connection.recovered", "connection.revoked", "onboarding_link.completed",
    ]

    /// One event to queue for a partner: the body is the Standard Webhooks shape `{"type","timestamp","data"}`.
    struct Event: Sendable, Equatable {
        /// `msg_…`, random: the `webhook-id` partners deduplicate on.
        var id: String
        var partnerId: String
        var type: String
        var merchantId: String?
        var payload: String
        var createdAt: Date
    }

    /// The events a connection's change makes for the partner that holds it after the change; `before` is nil for a
    /// new row. Several events of one change come in the order listed in `types`.
    static func connectionChanged(before: ConnectionRecord?, after: ConnectionRecord) -> [Event] {
        guard let partnerId = after.partnerId else { return [] }
        var types: [String] = []
        guard let before else { return [event("connection.created", for: after, partnerId: partnerId, linkId: after.partnerLinkId)] }
        let connectedAgain = after.connectedAt != before.connectedAt
        if before.partnerId != partnerId || (before.status == .revoked && connectedAgain) {
            types.append("connection.created")
        } else if connectedAgain && before.status != .revoked {
            types.append("connection.reconnected")
        }
        if !connectedAgain && after.status == .active && after.lastRefreshedAt != before.lastRefreshedAt {
            types.append("connection.refreshed")
        }
        if after.refreshFailureCount > before.refreshFailureCount || (after.status == .needsReauth && before.status != .needsReauth) {
            types.append("connection.refresh_failed")
        }
        let wasFailing = [.needsReauth, .expired].contains(before.status) || (before.refreshFailureCount > 0 && after.refreshFailureCount == 0)
        if !connectedAgain && after.status == .active && wasFailing {
            types.append("connection.recovered")
        }
        if after.status == .revoked && before.status != .revoked {
            types.append("connection.revoked")
        }
        return types.map { type in
            // Only a connect names the link that caused it; refreshes and revocations were caused by no link.
            let linkId = ["connection.created", "connection.reconnected"].contains(type) ? after.partnerLinkId : nil
            return event(type, for: after, partnerId: partnerId, linkId: linkId)
        }
    }

    /// The `onboarding_link.completed` event of a link that has just got its result (nil if it has none yet).
    static func linkCompleted(_ link: OnboardingLinkRecord) -> Event? {
        guard let result = link.result, let usedAt = link.usedAt else { return nil }
        let data = LinkData(linkId: link.id, reference: link.reference, result: result.rawValue, error: link.resultError, merchantId: link.merchantId)
        return Event(
            id: newMessageId(),
            partnerId: link.partnerId,
            type: "onboarding_link.completed",
            merchantId: link.merchantId,
            payload: body(type: "onboarding_link.completed", at: usedAt, data: data),
            createdAt: usedAt
        )
    }

    /// The body of a `webhook.test` event: the Standard Webhooks shape every event has.
    static func testPayload(partnerId: String, now: Date) -> String {
        let timestamp = ISO8601DateFormatter().string(from: now)
        return #"{"type":"webhook.test","timestamp":"\#(timestamp)","data":{"partner_id":"\#(partnerId)"}}"#
    }

    /// A new message id: `msg_` and 32 hex digits.
    static func newMessageId() -> String {
        "msg_" + hexString(SecureRandom.bytes(count: 16))
    }

    private static func event(_ type: String, for connection: ConnectionRecord, partnerId: String, linkId: String?) -> Event {
        let data = ConnectionData(
            merchantId: connection.merchantId,
            reference: connection.partnerReference,
            status: connection.status.rawValue,
            environment: connection.environment,
            revokedBy: connection.revokedBy,
            // A live connection has no reason; a failing or ended one says why.
            reason: connection.status == .active ? nil : connection.lastError,
            linkId: linkId
        )
        return Event(
            id: newMessageId(),
            partnerId: partnerId,
            type: type,
            merchantId: connection.merchantId,
            payload: body(type: type, at: connection.updatedAt, data: data),
            createdAt: connection.updatedAt
        )
    }

    private static func body(type: String, at time: Date, data: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let envelope = Envelope(type: type, timestamp: UTCTimestampText.iso8601(time), data: data)
        // Strings, optionals of strings and nothing else: encoding cannot fail.
        return (try? encoder.encode(envelope)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private struct Envelope<Data: Encodable>: Encodable {
        var type: String
        var timestamp: String
        var data: Data
    }

    // Every field is written, null when absent (`encode`, not `encodeIfPresent`): partners see the same keys always.
    private struct ConnectionData: Encodable {
        var merchantId: String
        var reference: String?
        var status: String
        var environment: String
        var revokedBy: String?
        var reason: String?
        var linkId: String?

        enum CodingKeys: String, CodingKey {
            case merchantId = "merchant_id"
            case reference, status, environment
            case revokedBy = "revoked_by"
            case reason
            case linkId = "link_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(merchantId, forKey: .merchantId)
            try container.encode(reference, forKey: .reference)
            try container.encode(status, forKey: .status)
            try container.encode(environment, forKey: .environment)
            try container.encode(revokedBy, forKey: .revokedBy)
            try container.encode(reason, forKey: .reason)
            try container.encode(linkId, forKey: .linkId)
        }
    }

    private struct LinkData: Encodable {
        var linkId: String
        var reference: String
        var result: String
        var error: String?
        var merchantId: String?

        enum CodingKeys: String, CodingKey {
            case linkId = "link_id"
            case reference, result, error
            case merchantId = "merchant_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(linkId, forKey: .linkId)
            try container.encode(reference, forKey: .reference)
            try container.encode(result, forKey: .result)
            try container.encode(error, forKey: .error)
            try container.encode(merchantId, forKey: .merchantId)
        }
    }
}
