/// Base64url without padding (RFC 4648 §5), as PKCE and URL-safe tokens use it.
///
/// Written out on bytes: it runs several times per OAuth callback (tokens, sealed boxes), where Foundation's
/// encoding plus three string replacements cost more than the crypto around them.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Each ASCII byte's 6-bit value, or 0xFF for a byte outside the base64url alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Encodes bytes as base64url with no `=` padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        let length = (input.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: length) { output in
            alphabet.withUnsafeBufferPointer { digits in
                var out = 0
                var index = 0
                while index + 3 <= input.count {
                    let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                    output[out] = digits[Int(chunk >> 18 & 0x3F)]
                    output[out + 1] = digits[Int(chunk >> 12 & 0x3F)]
                    output[out + 2] = digits[Int(chunk >> 6 & 0x3F)]
                    output[out + 3] = digits[Int(chunk & 0x3F)]
                    out += 4
                    index += 3
                }
                let rest = input.count - index
                if rest > 0 {
                    let chunk = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
                    output[out] = digits[Int(chunk >> 18 & 0x3F)]
                    output[out + 1] = digits[Int(chunk >> 12 & 0x3F)]
                    out += 2
                    if rest == 2 {
                        output[out] = digits[Int(chunk >> 6 & 0x3F)]
                        out += 1
                    }
                }
                return out
            }
        }
    }

    /// Whether every character of `text` is in the base64url alphabet (no padding), so HTML, URLs and cookies carry it as is.
    public static func isAlphabet(_ text: some StringProtocol) -> Bool {
        text.utf8.allSatisfy { values[Int($0)] != 0xFF }
    }

    /// Decodes unpadded base64url; nil when the text is not base64url (padding included).
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        if utf8.count % 4 == 1 { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in utf8 {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return output
    }
}
