import Foundation
import GRDB

/// A partner's invitation for one merchant to connect, ending at the partner's return URL.
struct OnboardingLinkRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "onboardingLink"

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
    /// When a merchant connected through it; a used link opens no second flow.
    var usedAt: Date?
    var merchantId: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let partnerId = Column(CodingKeys.partnerId)
        static let usedAt = Column(CodingKeys.usedAt)
        static let createdAt = Column(CodingKeys.createdAt)
    }
}

/// How the partner's page opens the flow: a full-page redirect, or a popup that reports back with `postMessage`.
enum LinkMode: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case redirect
    case popup
}
