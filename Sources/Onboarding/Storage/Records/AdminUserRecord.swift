import Foundation

/// A person who may sign in to the admin dashboard: a unique name, a role and an scrypt password hash.
///
/// The TOTP columns are empty until the admin sets up a second factor (`AdminSecondFactor`).
struct AdminUserRecord: Codable, Sendable, Equatable {
    var id: Int64?
    var name: String
    var role: AdminRole
    /// `$scrypt$ln=…,r=…,p=…$salt$hash`; never shown, never logged.
    var passwordHash: String
    /// The TOTP secret, sealed like tokens; nil until the admin sets up a second factor.
    var totpSecretSealed: String? = nil
    var totpEnabledAt: Date? = nil
    /// The hashes of unused recovery codes, space separated; nil without a second factor.
    var recoveryCodeHashes: String? = nil
    var createdAt: Date
    var lastSignInAt: Date? = nil
    /// The last TOTP time step accepted at sign-in; a code of that step or an earlier one is refused (a replay).
    var totpLastStep: Int? = nil
    /// Set when an owner added the admin with a one-time password: every page but choosing a new one is closed.
    var passwordChangeRequired: Bool = false

    /// Whether a second factor is set up.
    var totpEnabled: Bool { totpEnabledAt != nil }
}
