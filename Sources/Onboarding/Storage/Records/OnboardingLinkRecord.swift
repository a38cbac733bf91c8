import Foundation

/// A partner's invitation for one merchant to connect, ending at the partner's return URL.
struct OnboardingLinkRecord: Codable, Sendable, Equatable {
    /// `lnk_…`, random and unguessable: the link's URL is `/connect/{id}`.
    var id: String
    var partnerId: String
    /// The partner's own name for the merchant (its account id, say), given back on return and in webhooks.
    var reference: String
    /// Space-separated Square scopes to ask for.
    var scopes: String
    var returnUrl: String
    var mode: LinkMode
    var createdAt: Date
    var expiresAt: Date
    /// When a flow through it ended (connected, refused, denied or failed); a used link opens no second flow.
    var usedAt: Date?
    var merchantId: String?
    /// Where a browser that opens the link once it is used, expired or cancelled is sent, signed, to get a fresh one.
    var refreshUrl: String? = nil
    /// When the partner cancelled it; a cancelled link starts no flow and finishes none.
    var cancelledAt: Date? = nil
    /// How the flow through it ended, once it has.
    var result: LinkResult? = nil
    /// The error code when `result` is `error` (the signed return's `error`).
    var resultError: String? = nil
}

extension OnboardingLinkRecord {
    /// Where the link stands at `now`: a result outlives a later cancellation or expiry.
    func status(at now: Date) -> LinkStatus {
        if usedAt != nil { return .completed }
        if cancelledAt != nil { return .cancelled }
        return expiresAt <= now ? .expired : .open
    }
}

/// Where a link stands, as the partner API shows it.
enum LinkStatus: String, Sendable, CaseIterable {
    case open
    case completed
    case expired
    case cancelled
}

/// How the flow a link started ended: the `result` of `onboarding_link.completed` and of the link itself.
enum LinkResult: String, Codable, Sendable, CaseIterable {
    /// A merchant new to the partner connected (the signed return's `result=created`).
    case connected
    /// The partner's live connection was authorised again.
    case reconnected
    case denied
    /// The flow failed; `resultError` holds the code.
    case error
    /// The merchant is connected through another partner, whose connection was left as it was.
    case connectedThroughAnotherPartner = "connected_through_another_partner"
}

/// How the partner's page opens the flow: a full-page redirect, or a popup that reports back with `postMessage`.
enum LinkMode: String, Codable, Sendable, CaseIterable {
    case redirect
    case popup
}
