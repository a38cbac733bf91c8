import Foundation

/// Who may take a connection, and what a revocation does to one: decided here, applied by a storage engine inside
/// the transaction that reads the row, so every engine decides the same way.
enum ConnectionRules {
    /// What a new grant does to the merchant's connection.
    enum GrantDecision: Sendable, Equatable {
        /// Store the grant; `reconnected` when it renews a live connection for whoever holds it.
        case connect(reconnected: Bool)
        /// Another partner holds the live connection: it stays theirs, untouched, and Square's new tokens are dropped.
        case refuse(holder: String)
    }

    /// The decision for a grant (through `link`, or none) on the merchant's connection as stored (nil: none yet).
    ///
    /// A revoked connection is nobody's: connecting it again, through any partner's link, starts it anew.
    static func grant(onto existing: ConnectionRecord?, through link: PartnerLinkUse?) -> GrantDecision {
        guard let existing, existing.status != .revoked else { return .connect(reconnected: false) }
        if let link, let holder = existing.partnerId, holder != link.partnerId { return .refuse(holder: holder) }
        return .connect(reconnected: link == nil || existing.partnerId == link?.partnerId)
    }

    /// What a revocation does to a connection.
    enum Revocation: Sendable, Equatable {
        /// Mark it revoked now.
        case revoke
        /// It is revoked already (or about to be, by us): record the news as a confirmation only.
        case confirm
    }

    /// Our own revocation (Square has answered): only a connection revoked already is a confirmation.
    static func ourRevocation(of connection: ConnectionRecord) -> Revocation {
        connection.status == .revoked ? .confirm : .revoke
    }

    /// Square's `oauth.authorization.revoked` notice: a confirmation when the connection is revoked already or our own
    /// revoke is in flight (that revoke records it); otherwise the merchant revoked at Square and it ends now.
    static func squareRevocation(of connection: ConnectionRecord, at now: Date) -> Revocation {
        connection.status == .revoked || connection.isBeingRevoked(at: now) ? .confirm : .revoke
    }
}
