import Foundation

/// Time-based one-time passwords (RFC 6238): HOTP (RFC 4226) over the number of `period`-second steps since 1970.
public struct TOTP: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The HMAC digest; authenticator apps assume SHA-1 unless the otpauth URL names another.
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
        case sha512 = "SHA512"

        var macLength: Int {
            switch self {
            case .sha1: 20
            case .sha256: 32
            case .sha512: 64
            }
        }
    }

    let secret: [UInt8]
    /// How many decimal digits a code has (6 to 8).
    public let digits: Int
    /// Seconds per time step.
    public let period: Int
    /// The HMAC digest.
    public let algorithm: Algorithm

    /// A generator for `secret` (at least 16 bytes, RFC 4226 R6); throws for a shorter secret or other parameters.
    public init(secret: [UInt8], digits: Int = 6, period: Int = 30, algorithm: Algorithm = .sha1) throws {
        let problem: String? =
            if secret.count < 16 {
                "the secret must be at least 16 bytes"
            } else if !(6...8).contains(digits) {
                "codes must have 6 to 8 digits"
            } else if !(1...3600).contains(period) {
                "the period must be 1 to 3600 seconds"
            } else {
                nil
            }
        if let problem { throw CryptoError.invalidOneTimePasswordParameters(reason: problem) }
        self.secret = secret
        self.digits = digits
        self.period = period
        self.algorithm = algorithm
    }

    /// A fresh random secret; 20 bytes (160 bits) is what RFC 4226 recommends and authenticator apps expect.
    public static func generateSecret(byteCount: Int = 20) -> [UInt8] {
        precondition(byteCount >= 16, "a TOTP secret must be at least 16 bytes")
        return SecureRandom.bytes(count: byteCount)
    }

    /// The time step `date` falls in: whole periods since 1970-01-01T00:00:00Z.
    public func step(at date: Date) -> Int {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        return seconds >= 0 ? seconds / period : -((-seconds + period - 1) / period)
    }

    /// The code for the step `date` falls in.
    public func code(at date: Date) -> String { code(step: step(at: date)) }

    /// The code for time step `step`: the RFC 4226 HOTP value with `step` as the counter.
    public func code(step: Int) -> String {
        let counter = UInt64(bitPattern: Int64(step))
        let message = (0..<8).map { UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64($0))) }
        let mac = HMAC.authenticationCode(for: message, key: secret, digest: algorithm.rawValue, length: algorithm.macLength)
        // Dynamic truncation (RFC 4226 §5.3): 31 bits from the offset the last nibble names.
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = mac[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
        let value = String(binary % Self.powersOfTen[digits])
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The step whose code `code` is, searching `window` steps either side of `date`'s; nil when none matches.
    ///
    /// Spaces in `code` are ignored; anything else but exactly `digits` ASCII digits is refused. Steps at or
    /// before `lastUsedStep` are never accepted, so a caller that stores the returned step refuses a replayed code.
    public func validate(_ code: String, at date: Date, window: Int = 1, after lastUsedStep: Int? = nil) -> Int? {
        precondition((0...10).contains(window), "window must be 0 to 10 steps")
        let given = Array(code.utf8.filter { $0 != UInt8(ascii: " ") })
        guard given.count == digits, given.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let current = step(at: date)
        // Nearest steps first, so a code that happens to repeat within the window names the likelier step.
        let candidates = [current] + (0..<window).flatMap { offset in [current - offset - 1, current + offset + 1] }
        var matched: Int?
        for candidate in candidates where candidate > lastUsedStep ?? .min {
            if ConstantTime.equals(Array(self.code(step: candidate).utf8), given), matched == nil { matched = candidate }
        }
        return matched
    }

    /// The `otpauth://totp/` URI (Key Uri Format) an authenticator app scans from a QR code.
    ///
    /// The label is `issuer:account`; each part and each query value is percent-encoded, colons included.
    public func otpauthURL(issuer: String, account: String) -> String {
        let label = "\(Self.percentEncoded(issuer)):\(Self.percentEncoded(account))"
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(Self.percentEncoded(issuer))"
            + "&algorithm=\(algorithm.rawValue)&digits=\(digits)&period=\(period)"
    }

    public var description: String { "TOTP(<redacted>, \(algorithm.rawValue), \(digits) digits, \(period) s)" }
    public var debugDescription: String { description }

    static let powersOfTen: [UInt32] = [1, 10, 100, 1000, 10000, 100_000, 1_000_000, 10_000_000, 100_000_000]

    /// Every UTF-8 byte outside RFC 3986's unreserved set as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        for byte in text.utf8 {
            if CodeVerifier.isUnreserved(byte) {
                output.append(byte)
            } else {
                output += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
