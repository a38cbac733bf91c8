import Foundation
import OnboardCrypto
import SquareOAuth

/// What the consent endpoints answer: a page, an error page, or a redirect back to the application.
enum ConsentOutcome: Sendable, Equatable {
    case page(ConsentPage)
    case errorPage(status: Int, title: String, message: String)
    case redirect(String)
}

/// The consent form's fields, as the browser posts them.
struct ConsentDecision: Decodable, Sendable {
    var request_id: String
    var decision: String
    var merchant_id: String?
    var business_name: String?
}

extension EmulatorStore {
    /// `GET /oauth2/authorize`: validates the query and shows the consent page, or explains what is wrong.
    mutating func beginConsent(query: [String: String], now: Date) -> ConsentOutcome {
        guard let clientId = query["client_id"], !clientId.isEmpty else {
            return .errorPage(status: 400, title: "Missing client_id", message: "The authorize link has no client_id.")
        }
        guard clientId == application.clientId else {
            return .errorPage(status: 400, title: "Unknown application", message: "No application has this client_id.")
        }
        if let redirect = query["redirect_uri"], redirect != application.redirectURL {
            return .errorPage(
                status: 400,
                title: "Redirect URL mismatch",
                message: "redirect_uri does not match the application's registered redirect URL."
            )
        }
        let state = query["state"]
        let scopes = SquareScope.parse(query["scope"] ?? "")
        guard !scopes.isEmpty else {
            return .redirect(redirectURL(["error": "invalid_request", "error_description": "missing_scope", "state": state]))
        }
        if let unknown = scopes.first(where: { !SquareScope.isKnown($0) }) {
            return .redirect(
                redirectURL([
                    "error": "invalid_scope", "error_description": "unknown_scope_\(unknown)",
                    "state": state,
                ])
            )
        }
        let challenge = query["code_challenge"]
        if let method = query["code_challenge_method"], method != "S256" {
            return .redirect(
                redirectURL([
                    "error": "invalid_request", "error_description": "unsupported_code_challenge_method",
                    "state": state,
                ])
            )
        }
        if let challenge, (try? CodeVerifier(challenge)) == nil {
            return .redirect(
                redirectURL([
                    "error": "invalid_request", "error_description": "invalid_code_challenge",
                    "state": state,
                ])
            )
        }
        pendingConsents = pendingConsents.filter { now.timeIntervalSince($0.value.createdAt) < lifetimes.consentPage }
        let requestId = SecureRandom.urlSafeToken(byteCount: 16)
        pendingConsents[requestId] = PendingConsent(scopes: scopes, state: state, codeChallenge: challenge, createdAt: now)
        return .page(
            ConsentPage(
                requestId: requestId,
                applicationName: application.name,
                scopes: scopes,
                merchants: merchants,
                usesPKCE: challenge != nil
            )
        )
    }

    /// `POST /oauth2/authorize/decision`: Allow issues a code, Deny reports `access_denied`; both go back to the app.
    mutating func decide(_ form: ConsentDecision, now: Date) -> ConsentOutcome {
        guard let pending = pendingConsents.removeValue(forKey: form.request_id),
            now.timeIntervalSince(pending.createdAt) < lifetimes.consentPage
        else {
            return .errorPage(
                status: 400,
                title: "This consent page has expired",
                message: "Go back to the application and start again."
            )
        }
        switch form.decision {
        case "deny":
            return .redirect(
                redirectURL([
                    "error": "access_denied", "error_description": "user_denied",
                    "state": pending.state,
                ])
            )
        case "allow":
            let merchant: EmulatedMerchant
            if let id = form.merchant_id, let known = merchants.first(where: { $0.id == id }) {
                merchant = known
            } else {
                let name = form.business_name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                merchant = EmulatedMerchant(
                    id: "ML" + SecureRandom.token(length: 11, alphabet: SquareIdentifiers.upper),
                    businessName: name.isEmpty ? "Sandbox Seller" : String(name.prefix(80))
                )
                merchants.append(merchant)
            }
            let code = "sq0cgp-" + SecureRandom.token(length: 22, alphabet: SquareIdentifiers.alphanumerics)
            codes[code] = IssuedCode(
                merchantId: merchant.id,
                scopes: pending.scopes,
                codeChallenge: pending.codeChallenge,
                issuedAt: now
            )
            return .redirect(redirectURL(["code": code, "response_type": "code", "state": pending.state]))
        default:
            return .errorPage(status: 400, title: "Unknown decision", message: "Choose Allow or Deny.")
        }
    }

    /// The registered redirect URL with the given query items appended (nil values are left out).
    func redirectURL(_ items: KeyValuePairs<String, String?>) -> String {
        let query = items.compactMap { key, value in
            value.map { "\(key)=\($0.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? "")" }
        }.joined(separator: "&")
        let separator = application.redirectURL.contains("?") ? "&" : "?"
        return application.redirectURL + separator + query
    }
}

extension CharacterSet {
    /// Unreserved characters only, so `+`, `&` and `=` inside values are always escaped.
    static let urlQueryValueAllowed = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
}
