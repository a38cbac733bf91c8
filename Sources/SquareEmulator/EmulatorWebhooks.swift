import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SquareOAuth
import Synchronization

/// Where the emulator sends Square's webhooks; the signature key is a secret and never shows in descriptions.
public struct EmulatorWebhookSubscription: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Attempts per event, the first included, as Square makes.
    public static let maxAttempts = 3

    public var notificationURL: String
    public var signatureKey: String
    /// The wait before the first retry; each later retry waits twice as long.
    public var retryBackoff: Duration
    /// How long one attempt may take; AsyncHTTPClient keeps retrying a refused connection until then.
    public var attemptTimeout: Duration

    /// A subscription with Square's timing unless a test asks for faster retries.
    public init(
        notificationURL: String,
        signatureKey: String,
        retryBackoff: Duration = .milliseconds(500),
        attemptTimeout: Duration = .seconds(10)
    ) {
        self.notificationURL = notificationURL
        self.signatureKey = signatureKey
        self.retryBackoff = retryBackoff
        self.attemptTimeout = attemptTimeout
    }

    /// Whether the notification URL is an absolute http(s) URL with a host.
    public var hasValidNotificationURL: Bool {
        guard let url = URL(string: notificationURL), let scheme = url.scheme?.lowercased() else { return false }
        return ["http", "https"].contains(scheme) && !(url.host ?? "").isEmpty
    }

    public var description: String { "EmulatorWebhookSubscription(notificationURL: \(notificationURL), signatureKey: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["notificationURL": notificationURL]) }
}

/// One webhook event the emulator sent or tried to send.
public struct EmulatorWebhookDelivery: Sendable, Codable, Equatable {
    public var eventId: String
    public var merchantId: String
    /// `MERCHANT` or `APPLICATION`.
    public var revokerType: String
    public var attempts: Int
    public var lastStatus: Int?
    public var delivered: Bool
    public var lastError: String?
    /// Set when the emulator stopped before the event was delivered or out of attempts: nothing more is sent.
    var abandoned = false

    enum CodingKeys: String, CodingKey {
        case eventId = "event_id"
        case merchantId = "merchant_id"
        case revokerType = "revoker_type"
        case attempts
        case lastStatus = "last_status"
        case delivered
        case lastError = "last_error"
    }

    /// Delivered, out of attempts, or abandoned when the emulator stopped.
    var isFinished: Bool { delivered || abandoned || attempts >= EmulatorWebhookSubscription.maxAttempts }
}

/// Square's `oauth.authorization.revoked` event.
struct RevocationEvent {
    var merchantId: String
    var revokerType: String
    var eventId = UUID().uuidString.lowercased()
    var dataId = UUID().uuidString.lowercased()
    var at: Date

    /// The raw body, fields in Square's order (`JSONEncoder` leaves key order unspecified).
    var body: ByteBuffer {
        let timestamp = Self.quoted(at.rfc3339)
        return ByteBuffer(
            string: #"{"merchant_id":\#(Self.quoted(merchantId)),"type":"oauth.authorization.revoked","#
                + #""event_id":"\#(eventId)","created_at":\#(timestamp),"#
                + #""data":{"type":"revocation","id":"\#(dataId)","#
                + #""object":{"revocation":{"revoked_at":\#(timestamp),"revoker_type":\#(Self.quoted(revokerType))}}}}"#
        )
    }

    private static func quoted(_ value: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}
