/// Everything that can go wrong in OnboardCrypto; messages never contain key material or plaintext.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    case randomSourceFailed
    case openSSLFailed(operation: String)
    case invalidKeyLength(Int)
    case invalidKeyRing(reason: String)
    case unknownKeyID(String)
    case malformedSealedBox
    case authenticationFailed
    case invalidCodeVerifier(reason: String)
    case malformedPasswordHash
    case invalidOneTimePasswordParameters(reason: String)

    public var description: String {
        switch self {
        case .randomSourceFailed: "the system random source failed"
        case .openSSLFailed(let operation): "OpenSSL failed during \(operation)"
        case .invalidKeyLength(let length): "an AES-256 key must be 32 bytes, got \(length)"
        case .invalidKeyRing(let reason): "invalid encryption key list: \(reason)"
        case .unknownKeyID(let id): "no encryption key with id '\(id)' is configured"
        case .malformedSealedBox: "the sealed value is malformed or truncated"
        case .authenticationFailed: "the sealed value failed authentication (wrong key or tampered)"
        case .invalidCodeVerifier(let reason): "invalid PKCE code verifier: \(reason)"
        case .malformedPasswordHash: "the stored password hash is malformed"
        case .invalidOneTimePasswordParameters(let reason): "invalid one-time password parameters: \(reason)"
        }
    }
}
