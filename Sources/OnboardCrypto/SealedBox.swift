import Foundation

/// An AES-256-GCM sealed value that names the key it was sealed with: `sb1.<keyID>.<base64url(nonce‖ciphertext‖tag)>`.
public struct SealedBox: Sendable, Equatable, CustomStringConvertible {
    static let prefix = "sb1"

    /// The id of the key that sealed this box.
    public let keyID: String
    let nonce: [UInt8]
    let ciphertext: [UInt8]
    let tag: [UInt8]

    init(keyID: String, nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8]) {
        self.keyID = keyID
        self.nonce = nonce
        self.ciphertext = ciphertext
        self.tag = tag
    }

    /// Parses the stored text form; rejects anything truncated or of another shape.
    public init(serialized: String) throws {
        let parts = serialized.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.prefix, KeyRing.isValidKeyID(parts[1]),
            let payload = Base64URL.decode(parts[2]),
            payload.count >= AESGCM.nonceLength + AESGCM.tagLength
        else { throw CryptoError.malformedSealedBox }
        self.keyID = String(parts[1])
        self.nonce = Array(payload.prefix(AESGCM.nonceLength))
        self.ciphertext = Array(payload.dropFirst(AESGCM.nonceLength).dropLast(AESGCM.tagLength))
        self.tag = Array(payload.suffix(AESGCM.tagLength))
    }

    /// The text form stored in the database.
    public var serialized: String {
        "\(Self.prefix).\(keyID).\(Base64URL.encode(nonce + ciphertext + tag))"
    }

    public var description: String { "SealedBox(keyID: \(keyID), \(ciphertext.count) bytes)" }

    /// The associated data that binds the key id and the caller's context into the tag.
    static func associatedData(keyID: String, context: String) -> [UInt8] {
        Array("\(prefix).\(keyID)|\(context)".utf8)
    }
}

/// The configured encryption keys: the first is active for sealing, all of them open.
public struct KeyRing: Sendable, CustomStringConvertible {
    /// The id of the key new values are sealed with.
    public let activeKeyID: String
    /// Every key id this ring can open, active first.
    public let keyIDs: [String]
    private let keys: [String: SymmetricKey]

    /// A ring from (id, key) pairs; the first pair is the active key.
    public init(keys orderedKeys: [(id: String, key: SymmetricKey)]) throws {
        guard let first = orderedKeys.first else { throw CryptoError.invalidKeyRing(reason: "no key given") }
        var keys: [String: SymmetricKey] = [:]
        for (id, key) in orderedKeys {
            guard Self.isValidKeyID(id[...]) else {
                throw CryptoError.invalidKeyRing(reason: "key id '\(id)' must be 1-32 of A-Z a-z 0-9 _ -")
            }
            guard keys.updateValue(key, forKey: id) == nil else {
                throw CryptoError.invalidKeyRing(reason: "key id '\(id)' appears twice")
            }
        }
        self.activeKeyID = first.id
        self.keyIDs = orderedKeys.map(\.id)
        self.keys = keys
    }

    /// Parses `kid:base64,kid:base64,…` (the `ONBOARD_ENCRYPTION_KEYS` format); the first is active.
    public init(parsing text: String) throws {
        let entries = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let pairs = try entries.filter { !$0.isEmpty }.map { entry -> (id: String, key: SymmetricKey) in
            guard let colon = entry.firstIndex(of: ":") else {
                throw CryptoError.invalidKeyRing(reason: "each entry must be id:base64key")
            }
            return (String(entry[..<colon]), try SymmetricKey(base64: String(entry[entry.index(after: colon)...])))
        }
        try self.init(keys: pairs)
    }

    /// The ring as `kid:base64,…` text, for writing a generated configuration.
    public var serialized: String {
        keyIDs.map { "\($0):\(keys[$0]!.base64)" }.joined(separator: ",")
    }

    /// Seals `plaintext` under the active key with a fresh random nonce, bound to `context`.
    public func seal(_ plaintext: some Collection<UInt8>, context: String = "") throws -> SealedBox {
        let nonce = SecureRandom.bytes(count: AESGCM.nonceLength)
        let sealed = try AESGCM.seal(
            plaintext,
            key: keys[activeKeyID]!,
            nonce: nonce,
            associatedData: SealedBox.associatedData(keyID: activeKeyID, context: context)
        )
        return SealedBox(keyID: activeKeyID, nonce: nonce, ciphertext: sealed.ciphertext, tag: sealed.tag)
    }

    /// Seals a string's UTF-8 bytes and returns the stored text form.
    public func seal(_ text: String, context: String = "") throws -> String {
        try seal(Array(text.utf8), context: context).serialized
    }

    /// Opens a box sealed by any key in the ring with the same context.
    public func open(_ box: SealedBox, context: String = "") throws -> [UInt8] {
        guard let key = keys[box.keyID] else { throw CryptoError.unknownKeyID(box.keyID) }
        return try AESGCM.open(
            ciphertext: box.ciphertext,
            tag: box.tag,
            key: key,
            nonce: box.nonce,
            associatedData: SealedBox.associatedData(keyID: box.keyID, context: context)
        )
    }

    /// Opens a stored text form back into the original string.
    public func openString(_ serialized: String, context: String = "") throws -> String {
        let bytes = try open(SealedBox(serialized: serialized), context: context)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw CryptoError.malformedSealedBox }
        return text
    }

    /// `value` with a tag that proves this service issued it: `<value>.<keyId>.<tag>`.
    ///
    /// The tag is HMAC-SHA256 over the value under a key derived from the active key for `purpose`, so a tag made for
    /// one purpose proves nothing for another, and no stored secret is used directly.
    public func sign(_ value: String, purpose: String) -> String {
        "\(value).\(activeKeyID).\(Base64URL.encode(tag(value, keyID: activeKeyID, purpose: purpose)))"
    }

    /// The value inside `signed` when any key of the ring signed it for `purpose` (compared in constant time); else nil.
    public func verified(_ signed: String, purpose: String) -> String? {
        let parts = signed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, keys[String(parts[1])] != nil, let given = Base64URL.decode(String(parts[2])) else { return nil }
        let value = String(parts[0])
        return ConstantTime.equals(given, tag(value, keyID: String(parts[1]), purpose: purpose)) ? value : nil
    }

    private func tag(_ value: String, keyID: String, purpose: String) -> [UInt8] {
        let derived = HMACSHA256.authenticationCode(for: Array("square-onboard tag key|\(purpose)".utf8), key: keys[keyID]!.bytes)
        return HMACSHA256.authenticationCode(for: Array(value.utf8), key: derived)
    }

    /// Whether a stored value must be re-sealed to move onto the active key.
    public func needsResealing(_ serialized: String) throws -> Bool {
        try SealedBox(serialized: serialized).keyID != activeKeyID
    }

    public var description: String { "KeyRing(active: \(activeKeyID), keys: \(keyIDs))" }

    /// Key ids are 1–32 characters of letters, digits, `-` and `_` (they sit between dots in a sealed value).
    public static func isValidKeyID(_ id: Substring) -> Bool {
        (1...32).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                CodeVerifier.isUnreserved(byte) && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "~")
            }
    }
}
