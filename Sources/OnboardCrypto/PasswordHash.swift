import COpenSSL

/// scrypt password hashes in the form `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url).
public struct PasswordHash: Sendable {
    /// Cost parameters: N = 2^logN, block size r, parallelism p.
    public struct Parameters: Sendable, Equatable {
        public var logN: Int
        public var r: Int
        public var p: Int

        public init(logN: Int, r: Int, p: Int) {
            self.logN = logN
            self.r = r
            self.p = p
        }

        /// 32 MiB and roughly 100 ms per hash on a server core.
        public static let interactive = Parameters(logN: 15, r: 8, p: 1)
        /// Cheap parameters for tests only.
        public static let testing = Parameters(logN: 10, r: 8, p: 1)
    }

    static let keyLength = 32

    /// Hashes `password` with a fresh 16-byte salt. Blocking: call it off the cooperative pool.
    public static func hash(_ password: String, parameters: Parameters = .interactive) throws -> String {
        let salt = SecureRandom.bytes(count: 16)
        let derived = try scrypt(password: Array(password.utf8), salt: salt, parameters: parameters)
        return "$scrypt$ln=\(parameters.logN),r=\(parameters.r),p=\(parameters.p)$"
            + "\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// Checks `password` against a stored hash in constant time. Blocking, like `hash`.
    public static func verify(_ password: String, against stored: String) throws -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt",
            let parameters = parseParameters(parts[2]),
            let salt = Base64URL.decode(parts[3]), let expected = Base64URL.decode(parts[4]),
            expected.count == keyLength
        else { throw CryptoError.malformedPasswordHash }
        let derived = try scrypt(password: Array(password.utf8), salt: salt, parameters: parameters)
        return ConstantTime.equals(derived, expected)
    }

    static func parseParameters(_ text: Substring) -> Parameters? {
        var values: [Substring: Int] = [:]
        for pair in text.split(separator: ",") {
            let kv = pair.split(separator: "=")
            guard kv.count == 2, let value = Int(kv[1]) else { return nil }
            values[kv[0]] = value
        }
        guard let logN = values["ln"], let r = values["r"], let p = values["p"],
            (1...20).contains(logN), (1...32).contains(r), (1...16).contains(p)
        else { return nil }
        return Parameters(logN: logN, r: r, p: p)
    }

    static func scrypt(password: [UInt8], salt: [UInt8], parameters: Parameters) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: keyLength)
        let n = UInt64(1) << UInt64(parameters.logN)
        let memoryNeeded = 128 * n * UInt64(parameters.r) * UInt64(parameters.p + 1) + (1 << 20)
        // A trailing NUL keeps the pointer valid for an empty password; the length excludes it.
        let passwordChars = password.map { CChar(bitPattern: $0) } + [0]
        let status = passwordChars.withUnsafeBufferPointer { passwordBuffer in
            salt.withUnsafeBufferPointer { saltBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    EVP_PBE_scrypt(
                        passwordBuffer.baseAddress,
                        password.count,
                        saltBuffer.baseAddress,
                        saltBuffer.count,
                        n,
                        UInt64(parameters.r),
                        UInt64(parameters.p),
                        memoryNeeded,
                        outputBuffer.baseAddress,
                        outputBuffer.count
                    )
                }
            }
        }
        guard status == 1 else { throw CryptoError.openSSLFailed(operation: "scrypt") }
        return output
    }
}
