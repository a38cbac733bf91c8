/// A failed Square OAuth call, classified so callers can choose between "re-authorize" and "retry".
public struct SquareError: Error, Sendable, CustomStringConvertible {
    /// What the failure means for the caller.
    public enum Kind: String, Sendable, Equatable {
        /// The code, refresh token or migration token is invalid, expired, used or revoked: the merchant must authorize again.
        case invalidGrant
        /// Square refused our credentials (client secret or access token).
        case unauthorized
        /// Square rejected the request's shape; retrying the same request will not help.
        case invalidRequest
        /// HTTP 429: retry later, after `retryAfterSeconds` when given.
        case rateLimited
        /// 5xx, timeout or a dropped connection: retry with backoff (mind `mayHaveBeenProcessed`).
        case transient
        /// A success status with a body we cannot read, or a body over the size cap.
        case malformedResponse
    }

    /// The classification.
    public let kind: Kind
    /// The SDK-named operation that failed (`obtainToken`, `revokeToken`, ...).
    public let operation: String
    /// The HTTP status, when an answer arrived.
    public let statusCode: Int?
    /// Square's `errors` envelope, when the answer had one.
    public let errors: [SquareAPIError]
    /// The older `{"message","type"}` shape, when the answer had it.
    public let legacy: SquareLegacyError?
    /// Seconds from a `Retry-After` header, when Square sent one.
    public let retryAfterSeconds: Int?
    /// A short, secret-free description of a transport failure.
    public let transportFailure: String?
    /// False only when we know the request never reached Square (connection refused or connect timeout).
    public let mayHaveBeenProcessed: Bool

    public init(
        kind: Kind,
        operation: String,
        statusCode: Int? = nil,
        errors: [SquareAPIError] = [],
        legacy: SquareLegacyError? = nil,
        retryAfterSeconds: Int? = nil,
        transportFailure: String? = nil,
        mayHaveBeenProcessed: Bool = true
    ) {
        self.kind = kind
        self.operation = operation
        self.statusCode = statusCode
        self.errors = errors
        self.legacy = legacy
        self.retryAfterSeconds = retryAfterSeconds
        self.transportFailure = transportFailure
        self.mayHaveBeenProcessed = mayHaveBeenProcessed
    }

    /// Whether only a new authorization by the merchant can fix this.
    public var requiresReauthorization: Bool { kind == .invalidGrant }

    /// Whether the same call may succeed later.
    public var isRetryable: Bool { kind == .transient || kind == .rateLimited }

    /// The first error code Square gave (`UNAUTHORIZED`, `ACCESS_TOKEN_REVOKED`, ...) or the legacy type.
    public var code: String? { errors.first?.code ?? legacy?.type }

    public var description: String {
        var text = "Square \(operation) failed (\(kind.rawValue)"
        if let statusCode { text += ", HTTP \(statusCode)" }
        text += ")"
        if let first = errors.first {
            text += ": \(first.category)/\(first.code)"
            if let detail = first.detail { text += " \(detail)" }
            if let field = first.field { text += " [field \(field)]" }
        } else if let legacy {
            text += ": \(legacy.type) \(legacy.message)"
        } else if let transportFailure {
            text += ": \(transportFailure)"
        }
        return text
    }

    /// Codes that name a malformed parameter rather than a bad grant.
    static let parameterErrorCodes: Set<String> = [
        "MISSING_REQUIRED_PARAMETER", "INVALID_VALUE", "VALUE_TOO_LONG", "VALUE_TOO_SHORT", "VALUE_EMPTY",
        "INVALID_CONTENT_TYPE", "EXPECTED_STRING", "EXPECTED_BOOLEAN", "EXPECTED_ARRAY", "EXPECTED_JSON_BODY",
        "INVALID_ARRAY_VALUE", "INVALID_ENUM_VALUE",
    ]

    /// Classifies a non-2xx answer from Square.
    static func classify(
        operation: String,
        status: Int,
        errors: [SquareAPIError],
        legacy: SquareLegacyError?
    ) -> Kind {
        switch status {
        case 429: return .rateLimited
        case 408, 500...599: return .transient
        case 401, 403:
            guard operation == "obtainToken" else { return .unauthorized }
            return legacy?.message == "Not Authorized" ? .unauthorized : .invalidGrant
        case 400:
            guard operation == "obtainToken" else { return .invalidRequest }
            let parameterProblem = errors.contains { parameterErrorCodes.contains($0.code) }
            let headerProblem = legacy?.type.hasPrefix("bad_request.invalid_parameter") ?? false
            return parameterProblem || headerProblem ? .invalidRequest : .invalidGrant
        default: return .invalidRequest
        }
    }
}
