import COpenSSL

/// SHA-256 through OpenSSL's EVP digest API.
public enum SHA256 {
    /// The 32-byte SHA-256 digest of `data`.
    public static func hash(_ data: some Collection<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(data)
        let status = bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                onboard_sha256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        precondition(status == 1, "EVP_Digest(SHA-256) failed")
        return digest
    }

    /// The SHA-256 digest of a string's UTF-8 bytes.
    public static func hash(_ text: String) -> [UInt8] { hash(Array(text.utf8)) }
}

/// HMAC-SHA256 through OpenSSL's EVP MAC API.
public enum HMACSHA256 {
    /// The 32-byte HMAC-SHA256 of `message` under `key`.
    public static func authenticationCode(
        for message: some Collection<UInt8>,
        key: some Collection<UInt8>
    ) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        let keyBytes = Array(key)
        let messageBytes = Array(message)
        let status = keyBytes.withUnsafeBufferPointer { keyBuffer in
            messageBytes.withUnsafeBufferPointer { messageBuffer in
                mac.withUnsafeMutableBufferPointer { output in
                    onboard_hmac_sha256(
                        keyBuffer.baseAddress,
                        keyBuffer.count,
                        messageBuffer.baseAddress,
                        messageBuffer.count,
                        output.baseAddress
                    )
                }
            }
        }
        precondition(status == 1, "EVP_Q_mac(HMAC-SHA256) failed")
        return mac
    }

    /// Whether `code` is the HMAC of `message` under `key`, compared in constant time.
    public static func isValid(
        _ code: some Collection<UInt8>,
        for message: some Collection<UInt8>,
        key: some Collection<UInt8>
    ) -> Bool {
        ConstantTime.equals(authenticationCode(for: message, key: key), Array(code))
    }
}

/// Comparison whose running time does not depend on where two secrets differ.
public enum ConstantTime {
    /// True when both byte sequences are equal; only their lengths may leak through timing.
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        let left = Array(lhs)
        let right = Array(rhs)
        guard left.count == right.count else { return false }
        guard !left.isEmpty else { return true }
        return left.withUnsafeBytes { leftBuffer in
            right.withUnsafeBytes { rightBuffer in
                CRYPTO_memcmp(leftBuffer.baseAddress, rightBuffer.baseAddress, left.count) == 0
            }
        }
    }

    /// Constant-time equality of two strings' UTF-8 bytes.
    public static func equals(_ lhs: String, _ rhs: String) -> Bool {
        equals(Array(lhs.utf8), Array(rhs.utf8))
    }
}

/// HMAC over any digest OpenSSL names (`SHA1`, `SHA256`, `SHA512`), for the one-time-password algorithms.
enum HMAC {
    /// The `length`-byte HMAC of `message` under `key` with the digest OpenSSL calls `digest`.
    static func authenticationCode(for message: [UInt8], key: [UInt8], digest: String, length: Int) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: length)
        var written = 0
        let status = key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                mac.withUnsafeMutableBufferPointer { output in
                    onboard_hmac(
                        digest,
                        keyBuffer.baseAddress,
                        keyBuffer.count,
                        messageBuffer.baseAddress,
                        messageBuffer.count,
                        output.baseAddress,
                        output.count,
                        &written
                    )
                }
            }
        }
        precondition(status == 1 && written == length, "EVP_Q_mac(HMAC-\(digest)) failed")
        return mac
    }
}
