import Foundation

/// What a partner's allowed return URLs and popup origins may be, and whether a URL is one of them.
///
/// An allowed return URL is an exact origin and a path prefix: `https://app.example/onboarding/` allows
/// `https://app.example/onboarding/done?x=1` and nothing on another scheme, host or port, nor a path that leaves the
/// prefix with `..`. Plain `http` is accepted only on loopback hosts (local development and tests).
enum PartnerURLRules {
    /// The normalised allow-list entry, or why it cannot be one.
    static func returnURLEntry(_ text: String) -> Result<String, PartnerError> {
        guard let parts = parse(text, field: "return URL") else {
            return .failure(.invalidField(field: "return_url", reason: "'\(text)' is not an absolute http(s) URL"))
        }
        if let problem = parts.problem { return .failure(.invalidField(field: "return_url", reason: problem)) }
        guard parts.query == nil else {
            return .failure(.invalidField(field: "return_url", reason: "an allowed return URL has no query"))
        }
        return .success(parts.origin + (parts.path.isEmpty ? "/" : parts.path))
    }

    /// The normalised popup origin (`scheme://host[:port]`), or why it cannot be one.
    static func popupOrigin(_ text: String) -> Result<String, PartnerError> {
        guard let parts = parse(text, field: "popup origin"), parts.path.isEmpty || parts.path == "/", parts.query == nil else {
            return .failure(.invalidField(field: "popup_origin", reason: "'\(text)' is not an origin like https://app.example"))
        }
        if let problem = parts.problem { return .failure(.invalidField(field: "popup_origin", reason: problem)) }
        return .success(parts.origin)
    }

    /// A webhook URL: absolute https (http on loopback), no credentials, no fragment.
    static func webhookURL(_ text: String) -> Result<String, PartnerError> {
        guard let parts = parse(text, field: "webhook URL") else {
            return .failure(.invalidField(field: "webhook_url", reason: "'\(text)' is not an absolute http(s) URL"))
        }
        if let problem = parts.problem { return .failure(.invalidField(field: "webhook_url", reason: problem)) }
        return .success(text)
    }

    /// Whether `url` lies under one of the allowed return URL entries.
    static func isAllowed(returnURL url: String, entries: [String]) -> Bool {
        guard let parts = parse(url, field: "return_url"), parts.problem == nil else { return false }
        let path = parts.path.isEmpty ? "/" : parts.path
        return entries.contains { entry in
            guard let allowed = parse(entry, field: "entry"), allowed.origin == parts.origin else { return false }
            let prefix = allowed.path.isEmpty ? "/" : allowed.path
            guard path.hasPrefix(prefix) else { return false }
            // `/return` allows `/return`, `/return/…` and `/return?…`, not `/returned`.
            return prefix.hasSuffix("/") || path.count == prefix.count || path.dropFirst(prefix.count).first == "/"
        }
    }

    private struct Parts {
        var origin: String
        var path: String
        var query: String?
        var problem: String?
    }

    private static func parse(_ text: String, field: String) -> Parts? {
        guard text.utf8.count <= 2000, !text.contains(where: { $0.isWhitespace || $0 == "\\" }),
            let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        var problem: String?
        if scheme == "http", !["localhost", "127.0.0.1", "::1", "[::1]"].contains(host) {
            problem = "a \(field) must use https (plain http only on localhost)"
        }
        if components.user != nil || components.password != nil { problem = "a \(field) carries no user name or password" }
        if components.fragment != nil { problem = "a \(field) has no #fragment" }
        let path = components.percentEncodedPath
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { $0.removingPercentEncoding ?? String($0) }
        if segments.contains(where: { $0 == "." || $0 == ".." || $0.contains("/") || $0.contains("\\") }) {
            problem = "a \(field) has no '.' or '..' path segments"
        }
        let port = components.port.map { ":\($0)" } ?? ""
        let hostText = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return Parts(origin: "\(scheme)://\(hostText)\(port)", path: path, query: components.percentEncodedQuery, problem: problem)
    }
}
