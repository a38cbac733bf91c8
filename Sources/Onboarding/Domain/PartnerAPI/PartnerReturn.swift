import Foundation
import OnboardCrypto

/// Where a partner's merchant goes back to when the flow ends, with the result signed by the partner's secret.
///
/// The signature is hex HMAC-SHA256, keyed with the partner's signing secret (the bytes after `whsec_`), over the
/// decoded values of `link_id`, `status`, `result`, `merchant_id`, `reference`, `error` and `timestamp`, in that
/// order, joined with `\n` (a missing value is empty). docs/partner-guide.md shows how to check it.
struct PartnerReturn: Sendable, Equatable {
    /// How the flow ended (`connected`, `denied`, `error`) on the return URL; where a dead link stands (`completed`,
    /// `expired`, `cancelled`) on the refresh URL.
    enum Status: String, Sendable {
        case connected
        case denied
        case error
        case completed
        case expired
        case cancelled
    }

    /// The result's fields in the order they are signed and sent.
    struct Field: Sendable, Equatable {
        var name: String
        var value: String
    }

    var url: URL
    var fields: [Field]
    var mode: LinkMode
    /// The origins a popup may post the result to (the partner's allowed popup origins).
    var popupOrigins: [String]

    static let signedNames = ["link_id", "status", "result", "merchant_id", "reference", "error", "timestamp"]

    /// The signed return for a link (to its return URL, or to `destination`: its refresh URL); nil when that URL is no
    /// longer on the partner's allow-list.
    static func make(
        link: OnboardingLinkRecord,
        destination: String? = nil,
        partner: PartnerRecord,
        secret: String,
        status: Status,
        result: String? = nil,
        merchantId: String? = nil,
        error: String? = nil,
        now: Date
    ) -> PartnerReturn? {
        let target = destination ?? link.returnUrl
        guard PartnerURLRules.isAllowed(returnURL: target, entries: partner.returnURLPrefixes),
            var components = URLComponents(string: target)
        else { return nil }
        let values: [String: String] = [
            "link_id": link.id,
            "status": status.rawValue,
            "result": result ?? "",
            "merchant_id": merchantId ?? "",
            "reference": link.reference,
            "error": error ?? "",
            "timestamp": String(Int(now.timeIntervalSince1970)),
        ]
        let signature = sign(signedNames.map { values[$0] ?? "" }, secret: secret)
        var fields = signedNames.compactMap { name in values[name].flatMap { $0.isEmpty ? nil : Field(name: name, value: $0) } }
        fields.append(Field(name: "signature", value: signature))
        components.queryItems = (components.queryItems ?? []) + fields.map { URLQueryItem(name: $0.name, value: $0.value) }
        // `+` is a space to most form decoders; encode it so a reference with `+` survives.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.url else { return nil }
        return PartnerReturn(url: url, fields: fields, mode: link.mode, popupOrigins: partner.popupOriginList)
    }

    /// Hex HMAC-SHA256 of the values joined with newlines, keyed with the secret's bytes.
    static func sign(_ values: [String], secret: String) -> String {
        let mac = HMACSHA256.authenticationCode(for: Array(values.joined(separator: "\n").utf8), key: PartnerCredentials.signingKey(secret))
        return hexString(mac)
    }
}
