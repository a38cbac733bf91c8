import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG.
public enum SecureRandom {
    /// Returns `count` random bytes; traps only if the system random source is broken.
    public static func bytes(count: Int) -> [UInt8] {
        precondition(count >= 0, "count must not be negative")
        guard count > 0 else { return [] }
        var output = [UInt8](repeating: 0, count: count)
        let status = output.withUnsafeMutableBytes { buffer in
            RAND_bytes(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(count))
        }
        // A failing DRBG must never fall back to weak randomness.
        precondition(status == 1, "RAND_bytes failed: the system random source is unavailable")
        return output
    }

    /// A URL-safe token (base64url, no padding) carrying `byteCount` random bytes.
    public static func urlSafeToken(byteCount: Int = 32) -> String {
        Base64URL.encode(bytes(count: byteCount))
    }

    /// A token of `length` characters drawn uniformly from `alphabet` (rejection sampling, no bias).
    public static func token(length: Int, alphabet: [Character]) -> String {
        precondition(!alphabet.isEmpty && alphabet.count <= 256, "alphabet must have 1...256 characters")
        let limit = 256 - (256 % alphabet.count)
        var result = ""
        result.reserveCapacity(length)
        while result.count < length {
            for byte in bytes(count: length) where Int(byte) < limit && result.count < length {
                result.append(alphabet[Int(byte) % alphabet.count])
            }
        }
        return result
    }
}
