import COpenSSL
import Foundation

/// A 256-bit key for AES-256-GCM; its bytes never appear in descriptions.
public struct SymmetricKey: Sendable, Equatable, CustomStringConvertible {
    let bytes: [UInt8]

    /// Wraps exactly 32 key bytes.
    public init(bytes: some Collection<UInt8>) throws {
        guard bytes.count == 32 else { throw CryptoError.invalidKeyLength(bytes.count) }
        self.init(checked: Array(bytes))
    }

    private init(checked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Decodes a key from standard or URL-safe base64.
    public init(base64: String) throws {
        let trimmed = base64.trimmingCharacters(in: .whitespaces)
        guard
            let bytes = Base64URL.decode(
                trimmed.replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            )
        else { throw CryptoError.invalidKeyRing(reason: "a key is not valid base64") }
        try self.init(bytes: bytes)
    }

    /// A fresh random key.
    public static func generate() -> SymmetricKey {
        SymmetricKey(checked: SecureRandom.bytes(count: 32))
    }

    /// The key as standard base64, for writing into configuration.
    public var base64: String { Data(bytes).base64EncodedString() }

    public var description: String { "SymmetricKey(<redacted>)" }
}

/// AES-256-GCM with a 96-bit nonce and a 128-bit tag (NIST SP 800-38D).
public enum AESGCM {
    public static let nonceLength = 12
    public static let tagLength = 16

    /// Encrypts `plaintext`, authenticating `associatedData` too; returns ciphertext and tag.
    public static func seal(
        _ plaintext: some Collection<UInt8>,
        key: SymmetricKey,
        nonce: some Collection<UInt8>,
        associatedData: some Collection<UInt8> = [UInt8]()
    ) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        let input = Array(plaintext)
        let nonceBytes = Array(nonce)
        let aad = Array(associatedData)
        guard !nonceBytes.isEmpty else { throw CryptoError.malformedSealedBox }
        var ciphertext = [UInt8](repeating: 0, count: max(input.count, 1))
        var tag = [UInt8](repeating: 0, count: tagLength)
        let status = key.bytes.withUnsafeBufferPointer { keyBuffer in
            nonceBytes.withUnsafeBufferPointer { nonceBuffer in
                aad.withUnsafeBufferPointer { aadBuffer in
                    input.withUnsafeBufferPointer { inputBuffer in
                        ciphertext.withUnsafeMutableBufferPointer { outputBuffer in
                            tag.withUnsafeMutableBufferPointer { tagBuffer in
                                onboard_aes256gcm_seal(
                                    keyBuffer.baseAddress,
                                    nonceBuffer.baseAddress,
                                    nonceBuffer.count,
                                    aadBuffer.baseAddress,
                                    aadBuffer.count,
                                    inputBuffer.baseAddress,
                                    inputBuffer.count,
                                    outputBuffer.baseAddress,
                                    tagBuffer.baseAddress
                                )
                            }
                        }
                    }
                }
            }
        }
        guard status == 1 else { throw CryptoError.openSSLFailed(operation: "AES-256-GCM seal") }
        return (Array(ciphertext.prefix(input.count)), tag)
    }

    /// Decrypts and verifies; throws `authenticationFailed` for a wrong key, nonce, AAD or any flipped bit.
    public static func open(
        ciphertext: some Collection<UInt8>,
        tag: some Collection<UInt8>,
        key: SymmetricKey,
        nonce: some Collection<UInt8>,
        associatedData: some Collection<UInt8> = [UInt8]()
    ) throws -> [UInt8] {
        let input = Array(ciphertext)
        let tagBytes = Array(tag)
        let nonceBytes = Array(nonce)
        let aad = Array(associatedData)
        guard tagBytes.count == tagLength, !nonceBytes.isEmpty else { throw CryptoError.malformedSealedBox }
        var plaintext = [UInt8](repeating: 0, count: max(input.count, 1))
        let status = key.bytes.withUnsafeBufferPointer { keyBuffer in
            nonceBytes.withUnsafeBufferPointer { nonceBuffer in
                aad.withUnsafeBufferPointer { aadBuffer in
                    input.withUnsafeBufferPointer { inputBuffer in
                        tagBytes.withUnsafeBufferPointer { tagBuffer in
                            plaintext.withUnsafeMutableBufferPointer { outputBuffer in
                                onboard_aes256gcm_open(
                                    keyBuffer.baseAddress,
                                    nonceBuffer.baseAddress,
                                    nonceBuffer.count,
                                    aadBuffer.baseAddress,
                                    aadBuffer.count,
                                    inputBuffer.baseAddress,
                                    inputBuffer.count,
                                    tagBuffer.baseAddress,
                                    outputBuffer.baseAddress
                                )
                            }
                        }
                    }
                }
            }
        }
        guard status == 1 else { throw CryptoError.authenticationFailed }
        return Array(plaintext.prefix(input.count))
    }
}
