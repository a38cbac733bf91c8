import Foundation

/// Builds the URL of Square's consent page (`GET /oauth2/authorize`).
public struct AuthorizeURL: Sendable, Equatable {
    public var environment: SquareEnvironment
    public var clientId: String
    public var scopes: [String]
    /// Opaque value Square echoes back to the callback; bind it to the browser.
    public var state: String
    /// `false` forces the seller to sign in again (production only).
    public var session: Bool?
    public var locale: String?
    /// The S256 challenge of the PKCE verifier; nil in the plain code flow.
    public var codeChallenge: String?
    /// Must match the application's registered redirect URL when given.
    public var redirectURI: String?

    public init(
        environment: SquareEnvironment,
        clientId: String,
        scopes: [String],
        state: String,
        session: Bool? = nil,
        locale: String? = nil,
        codeChallenge: String? = nil,
        redirectURI: String? = nil
    ) {
        self.environment = environment
        self.clientId = clientId
        self.scopes = scopes
        self.state = state
        self.session = session
        self.locale = locale
        self.codeChallenge = codeChallenge
        self.redirectURI = redirectURI
    }

    /// The full authorize URL; scopes are joined with `+` as Square's guides show.
    public var url: URL {
        var pairs: [(String, String)] = [("client_id", clientId)]
        let scope = scopes.map(Self.percentEncode).joined(separator: "+")
        var query = pairs.map { "\($0.0)=\(Self.percentEncode($0.1))" } + ["scope=\(scope)"]
        pairs = [("state", state)]
        if let session { pairs.append(("session", session ? "true" : "false")) }
        if let locale { pairs.append(("locale", locale)) }
        if let codeChallenge {
            pairs.append(("code_challenge", codeChallenge))
            pairs.append(("code_challenge_method", "S256"))
        }
        if let redirectURI { pairs.append(("redirect_uri", redirectURI)) }
        query += pairs.map { "\($0.0)=\(Self.percentEncode($0.1))" }
        let base = environment.baseURL.absoluteString.trimmingSuffix("/")
        return URL(string: "\(base)/oauth2/authorize?\(query.joined(separator: "&"))")!
    }

    static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .init(charactersIn: Self.unreserved)) ?? ""
    }

    static let unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
