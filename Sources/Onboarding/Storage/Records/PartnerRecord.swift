import Foundation

/// A platform integration that sends merchants here: where they may return to, where its webhooks go, its secret.
struct PartnerRecord: Codable, Sendable, Equatable {
    /// `ptn_…`, random; what the API, audit log and connections name the partner by.
    var id: String
    /// The short handle operators type (`partner add NAME`), unique.
    var name: String
    /// What merchants see on the connect page ("Acme Payroll asks for…").
    var displayName: String
    /// Allowed return URLs, one per line: each an exact origin plus a path prefix.
    var returnUrls: String
    /// Origins a popup may report its result to, one per line.
    var popupOrigins: String
    var webhookUrl: String?
    /// The signing secret for webhooks and return URLs, sealed like tokens (`TokenVault.sealPartnerSecret`).
    var webhookSecretSealed: String
    var createdAt: Date
    var updatedAt: Date
    /// Set when a webhook was given up on after its retry window; cleared by the next delivery that succeeds.
    var webhookFailingSince: Date? = nil

    /// The allowed return URL prefixes as a list.
    var returnURLPrefixes: [String] { Self.lines(returnUrls) }
    /// The allowed popup origins as a list.
    var popupOriginList: [String] { Self.lines(popupOrigins) }

    static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }
}
