import Foundation
import OnboardCrypto

/// The secrets a partner is given once: API keys (`sok_XXXXXXXX_…`) and the signing secret (`whsec_…`).
enum PartnerCredentials {
    static let keyScheme = "sok_"
    /// `sok_` and 8 characters: stored in the clear to find the key, shown in lists to recognise it.
    static let prefixLength = 12

    /// A new API key and the record that keeps its hash.
    static func newKey(partnerId: String, now: Date) -> (key: String, record: PartnerApiKeyRecord) {
        let prefix = keyScheme + String(Base32.encode(SecureRandom.bytes(count: 5)).lowercased().prefix(8))
        let key = prefix + "_" + SecureRandom.urlSafeToken(byteCount: 32)
        return (key, PartnerApiKeyRecord(partnerId: partnerId, prefix: prefix, keyHash: sha256Hex(key), createdAt: now))
    }

    /// The prefix of a presented key, or nil when it cannot be one of ours.
    static func prefix(of presented: String) -> String? {
        let bytes = presented.utf8
        guard presented.hasPrefix(keyScheme), bytes.count > prefixLength + 1, bytes.count <= 100,
            bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        let prefix = String(presented.prefix(prefixLength))
        guard presented.dropFirst(prefixLength).first == "_" else { return nil }
        return prefix
    }

    /// Whether a presented key is the one a record keeps the hash of, compared in constant time.
    static func matches(_ presented: String, _ record: PartnerApiKeyRecord) -> Bool {
        ConstantTime.equals(sha256Hex(presented), record.keyHash)
    }

    /// A new signing secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64.
    static func newSigningSecret() -> String {
        "whsec_" + Data(SecureRandom.bytes(count: 32)).base64EncodedString()
    }

    /// The HMAC key a `whsec_…` secret stands for.
    static func signingKey(_ secret: String) -> [UInt8] {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        return Data(base64Encoded: encoded).map { Array($0) } ?? Array(secret.utf8)
    }

    /// A new partner id, `ptn_` and 16 random characters.
    static func newPartnerId() -> String { "ptn_" + Base32.encode(SecureRandom.bytes(count: 10)).lowercased() }

    /// A new onboarding link id, `lnk_` and 128 random bits: the link's URL is a capability.
    static func newLinkId() -> String { "lnk_" + SecureRandom.urlSafeToken(byteCount: 16) }
}
