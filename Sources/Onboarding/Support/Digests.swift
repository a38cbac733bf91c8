import OnboardCrypto

/// Hex SHA-256, for storing lookup keys (state, session and binding tokens) instead of the tokens.
func sha256Hex(_ text: String) -> String {
    hexString(SHA256.hash(text))
}

/// Lowercase hex of `bytes`, without Foundation's per-byte string formatting.
func hexString(_ bytes: some Collection<UInt8>) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
        var index = 0
        for byte in bytes {
            buffer[index] = hexDigits[Int(byte >> 4)]
            buffer[index + 1] = hexDigits[Int(byte & 0x0F)]
            index += 2
        }
        return index
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)
