import Foundation
import Onboarding
import SquareOAuth

/// A small, fast, seedable random source (SplitMix64): the same seed gives the same connections.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Makes the seeded connections: a realistic spread of statuses, references, expiries, scopes and flows.
struct ConnectionMix {
    static let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    static let upper = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    static let scopeSets: [[String]] = [
        ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"],
        ["MERCHANT_PROFILE_READ", "PAYMENTS_READ", "PAYMENTS_WRITE"],
        ["MERCHANT_PROFILE_READ", "ORDERS_READ", "ORDERS_WRITE", "ITEMS_READ"],
        ["MERCHANT_PROFILE_READ", "CUSTOMERS_READ", "CUSTOMERS_WRITE"],
        ["MERCHANT_PROFILE_READ", "PAYMENTS_READ", "ORDERS_READ", "INVENTORY_READ", "ITEMS_READ"],
    ]
    static let cities = ["berlin", "lisbon", "austin", "osaka", "leeds", "lyon", "perth", "quito"]

    let statuses: [(ImportedConnection.Status, Int)]
    let totalWeight: Int
    let due: Bool
    /// Every active connection is due for its status check (the default interval, 24 h).
    let statusDue: Bool
    /// The share of code-flow connections, 0 to 1.
    let codeShare: Double
    let now: Date
    var random: SplitMix64

    init(statuses: [(String, Int)], due: Bool, statusDue: Bool = false, codeShare: Double, seed: UInt64, now: Date) {
        self.statuses = statuses.compactMap { name, weight in ImportedConnection.Status(rawValue: name).map { ($0, weight) } }
        totalWeight = self.statuses.reduce(0) { $0 + $1.1 }
        self.due = due
        self.statusDue = statusDue
        self.codeShare = codeShare
        self.now = now
        random = SplitMix64(state: seed)
    }

    /// `ML` and 10 letters and digits, distinct for every index below 36^10 (a multiplier prime to 36 permutes the
    /// residues; near 0.618 × 36^10 it spreads neighbours apart), so ids look random yet never collide.
    static func merchantId(index: Int) -> String {
        let modulus: UInt64 = 3_656_158_440_062_976  // 36^10
        let product = UInt64(2_259_506_315_958_919).multipliedFullWidth(by: UInt64(index))
        var value = modulus.dividingFullWidth(product).remainder
        var characters = [Character](repeating: "0", count: 10)
        for position in (0..<10).reversed() {
            characters[position] = upper[Int(value % 36)]
            value /= 36
        }
        return "ML" + String(characters)
    }

    mutating func token(prefix: String) -> String {
        var text = prefix
        for _ in 0..<60 { text.append(Self.alphanumerics[Int(random.next() % 62)]) }
        return text
    }

    mutating func days(_ range: ClosedRange<Double>) -> TimeInterval {
        Double.random(in: range, using: &random) * 86_400
    }

    mutating func status() -> ImportedConnection.Status {
        var pick = Int(random.next() % UInt64(totalWeight))
        for (status, weight) in statuses {
            if pick < weight { return status }
            pick -= weight
        }
        return .active
    }

    mutating func reference(index: Int) -> String? {
        switch random.next() % 10 {
        case 0, 1, 2: nil
        case 3, 4: "shop-\(index)"
        case 5, 6: "acct_" + String(random.next() % 0xFFFF_FFFF_FFFF, radix: 16)
        case 7, 8: "store/\(Self.cities[Int(random.next() % UInt64(Self.cities.count))])-\(index % 977)"
        default: "ORD-2026-\(String(format: "%06d", index))"
        }
    }

    /// The connection at `index`.
    mutating func connection(index: Int) -> ImportedConnection {
        let status = status()
        let flow: OAuthFlow = Double.random(in: 0..<1, using: &random) < codeShare ? .code : .pkce
        // A connection is older than its token; when every one must be due, older than the refresh age too.
        let connectedAt = now.addingTimeInterval(-days(due ? 21...400 : 1...400))
        // When the access token was last issued: within the refresh age (6 days) unless due, or long ago when expired.
        var issuedAt: Date
        switch status {
        case .expired: issuedAt = now.addingTimeInterval(-days(31...45))
        case _ where due: issuedAt = now.addingTimeInterval(-days(7.5...20))
        default: issuedAt = now.addingTimeInterval(-days(0.01...6))
        }
        issuedAt = max(issuedAt, connectedAt)
        let lastError: String? =
            status == .needsReauth
            ? "Square answered HTTP 401 (Invalid refresh token) to the refresh: the merchant must connect again" : nil
        return ImportedConnection(
            merchantId: Self.merchantId(index: index),
            accessToken: Secret(token(prefix: "EAAA")),
            refreshToken: Secret(token(prefix: "EQAA")),
            expiresAt: issuedAt.addingTimeInterval(30 * 86_400),
            refreshTokenExpiresAt: flow == .pkce ? issuedAt.addingTimeInterval(90 * 86_400) : nil,
            scopes: Self.scopeSets[Int(random.next() % UInt64(Self.scopeSets.count))],
            flow: flow,
            status: status,
            partnerReference: reference(index: index),
            connectedAt: connectedAt,
            lastRefreshedAt: issuedAt == connectedAt ? nil : issuedAt,
            lastCheckedAt: status == .active && random.next() % 4 != 0 ? now.addingTimeInterval(-days(statusDue ? 1.5...10 : 0.01...1)) : nil,
            lastError: lastError
        )
    }
}
