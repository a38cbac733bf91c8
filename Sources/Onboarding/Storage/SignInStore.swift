import Foundation

/// What the store keeps for signing admins in: failed tries per key (an admin's name, a client address), so every
/// instance counts the same tries and a restart forgets none; and each admin's one open second-factor challenge.
///
/// Part of `OnboardingStore`, so every engine passes the same contract (`StoreContractTests+SignIn`).
protocol SignInStore: Sendable {
    /// Counts a try at `now` against every key, unless one of them already has its limit of failures since `since`:
    /// then nothing is counted and the answer says when the failure that keeps it refused leaves the window.
    func countSignInTry(_ keys: [SignInKey], now: Date, since: Date) async throws(StorageError) -> SignInCount
    /// Takes back a try that did not fail: `cleared` forgets all its failures, the other keys only the try at `at`.
    func takeBackSignInTry(keys: [String], at: Date, clearing cleared: String?) async throws(StorageError)
    /// Forgets every failure of `key` (an operator's unlock), with the audit event; how many there were.
    func clearSignInFailures(key: String, audit: AuditEventRecord) async throws(StorageError) -> Int
    /// Opens the admin's second-factor challenge (its hash), replacing any older one.
    func beginSecondFactorChallenge(adminId: Int64, challengeHash: String) async throws(StorageError)
    /// Spends the admin's challenge if it is this one; false when it was spent or replaced already.
    func spendSecondFactorChallenge(adminId: Int64, challengeHash: String) async throws(StorageError) -> Bool
}

/// One key a sign-in try counts against, and how many failures it may have in the window.
struct SignInKey: Sendable, Equatable {
    var key: String
    var limit: Int
}

/// What counting a sign-in try found.
enum SignInCount: Sendable, Equatable {
    /// Counted: each key's failures in the window, this try included.
    case counted([String: Int])
    /// Not counted: a key is at its limit until this time.
    case refused(until: Date)
}
