/// One-time recovery codes for a lost second factor: `xxxx-xxxx-xxxx`, 12 symbols of 5 bits (60 bits) each.
public enum RecoveryCodes {
    /// Crockford's base32 alphabet in lower case: the digits and every letter but i, l, o and u.
    public static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
    /// Symbols in one code, shown in groups of four.
    public static let length = 12
    static let groupLength = 4

    /// `count` distinct fresh codes, each drawn uniformly from the alphabet.
    public static func generate(count: Int = 10) -> [String] {
        precondition(count >= 0, "count must not be negative")
        var codes: [String] = []
        var seen: Set<String> = []
        while codes.count < count {
            let code = grouped(SecureRandom.token(length: length, alphabet: alphabet))
            if seen.insert(code).inserted { codes.append(code) }
        }
        return codes
    }

    /// The canonical `xxxx-xxxx-xxxx` form of a code as typed, to hash and compare; nil when it cannot be a code.
    ///
    /// Case, spaces and dashes do not matter, and `o` reads as `0`, `i` and `l` as `1` (as in Crockford's base32).
    public static func normalized(_ input: String) -> String? {
        var symbols = ""
        for character in input.lowercased() {
            switch character {
            case " ", "-", "\t":
                continue
            case "o":
                symbols.append("0")
            case "i", "l":
                symbols.append("1")
            default:
                guard alphabet.contains(character) else { return nil }
                symbols.append(character)
            }
            if symbols.count > length { return nil }
        }
        return symbols.count == length ? grouped(symbols) : nil
    }

    static func grouped(_ symbols: String) -> String {
        var output = ""
        for (index, character) in symbols.enumerated() {
            if index > 0 && index % groupLength == 0 { output.append("-") }
            output.append(character)
        }
        return output
    }
}
