import Hummingbird
import Logging

/// Everything the partner realm and the `partner` commands can run into; the API maps it to a JSON error, the CLI
/// to one line.
enum PartnerError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidName
    case nameTaken(String)
    case unknownPartner(String)
    /// A request field (or command flag) with a bad value, and why.
    case invalidField(field: String, reason: String)
    case returnURLNotAllowed
    case refreshURLNotAllowed
    case unknownKey(String)
    /// No usable API key on the request: missing, malformed, unknown or revoked (the answer does not say which).
    case unauthorized
    case connectionNotFound
    case linkNotFound
    /// Only an open link can be cancelled; this one is completed or expired.
    case linkNotOpen(status: LinkStatus)
    /// The partner has no webhook URL to send a test event to.
    case noWebhookEndpoint
    /// The connection has no usable token: revoked, or the merchant must authorize again.
    case connectionNotUsable(status: ConnectionStatus)
    case idempotencyKeyReused
    case squareUnavailable
    case storageUnavailable

    var description: String {
        switch self {
        case .invalidName: "partner names are 1 to 40 of a-z, 0-9 and '-', starting with a letter or digit"
        case .nameTaken(let name): "a partner named '\(name)' already exists"
        case .unknownPartner(let name): "no partner is named '\(name)'"
        case .invalidField(let field, let reason): "\(field): \(reason)"
        case .returnURLNotAllowed: "return_url is not one of this partner's allowed return URLs"
        case .refreshURLNotAllowed: "refresh_url is not one of this partner's allowed return URLs"
        case .unknownKey(let prefix): "no live API key starts with '\(prefix)'"
        case .unauthorized: "a valid API key is required: Authorization: Bearer sok_…"
        case .connectionNotFound: "no connection with that merchant id"
        case .linkNotFound: "no onboarding link with that id"
        case .linkNotOpen(let status): "the link is \(status.rawValue); only an open link can be cancelled"
        case .noWebhookEndpoint: "this partner has no webhook URL (partner update --webhook-url)"
        case .connectionNotUsable(let status): "the connection is \(status.rawValue); the merchant must connect again"
        case .idempotencyKeyReused: "this Idempotency-Key was used for a different request"
        case .squareUnavailable: "Square did not answer as expected; nothing changed, try again later"
        case .storageUnavailable: "the database did not answer; nothing changed, try again later"
        }
    }

    /// The stable code programs match on.
    var code: String {
        switch self {
        case .invalidName, .invalidField: "invalid_request"
        case .nameTaken: "name_taken"
        case .unknownPartner: "unknown_partner"
        case .returnURLNotAllowed: "return_url_not_allowed"
        case .refreshURLNotAllowed: "refresh_url_not_allowed"
        case .linkNotFound: "not_found"
        case .linkNotOpen: "link_not_open"
        case .noWebhookEndpoint: "no_webhook_endpoint"
        case .unknownKey: "unknown_key"
        case .unauthorized: "unauthorized"
        case .connectionNotFound: "not_found"
        case .connectionNotUsable: "connection_not_usable"
        case .idempotencyKeyReused: "idempotency_key_reused"
        case .squareUnavailable: "square_unavailable"
        case .storageUnavailable: "storage_unavailable"
        }
    }

    /// The request field at fault, when there is one.
    var field: String? {
        switch self {
        case .invalidField(let field, _): field
        case .returnURLNotAllowed: "return_url"
        case .refreshURLNotAllowed: "refresh_url"
        default: nil
        }
    }

    var status: HTTPResponse.Status {
        switch self {
        case .invalidName, .invalidField, .returnURLNotAllowed, .refreshURLNotAllowed: .badRequest
        case .unauthorized: .unauthorized
        case .connectionNotFound, .linkNotFound, .unknownPartner, .unknownKey: .notFound
        case .nameTaken, .connectionNotUsable, .idempotencyKeyReused, .linkNotOpen, .noWebhookEndpoint: .conflict
        case .squareUnavailable: .badGateway
        case .storageUnavailable: .serviceUnavailable
        }
    }
}

/// Runs one storage operation for the partner services; a failure is logged with what was being done.
func storingPartner<T>(_ what: String, logger: Logger, _ operation: () async throws -> T) async throws(PartnerError) -> T {
    try await storageCall(what, logger: logger, unavailable: PartnerError.storageUnavailable, operation)
}
