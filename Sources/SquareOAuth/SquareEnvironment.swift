import Foundation

/// Where Square's OAuth API lives: production, sandbox or any URL (our emulator, a proxy).
public enum SquareEnvironment: Sendable, Equatable, CustomStringConvertible {
    case production
    case sandbox
    case custom(URL)

    /// The scheme, host and port that the `/oauth2/...` paths hang off.
    public var baseURL: URL {
        switch self {
        case .production: URL(string: "https://connect.squareup.com")!
        case .sandbox: URL(string: "https://connect.squareupsandbox.com")!
        case .custom(let url): url
        }
    }

    /// Parses `production`, `sandbox` or an absolute http(s) URL.
    public init?(_ text: String) {
        switch text.lowercased() {
        case "production": self = .production
        case "sandbox": self = .sandbox
        default:
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", url.host != nil
            else { return nil }
            self = .custom(url)
        }
    }

    public var description: String {
        switch self {
        case .production: "production"
        case .sandbox: "sandbox"
        case .custom(let url): url.absoluteString
        }
    }
}
