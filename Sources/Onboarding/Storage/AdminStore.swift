import Foundation

/// Admin accounts, their sessions and their second factor.
protocol AdminStore: Sendable {
    /// Adds an admin with its audit event; nil when the name is taken.
    func addAdmin(_ admin: AdminUserRecord, audit: AuditEventRecord) async throws(StorageError) -> AdminUserRecord?

    func admin(named name: String) async throws(StorageError) -> AdminUserRecord?

    /// Every admin, by name.
    func allAdmins() async throws(StorageError) -> [AdminUserRecord]

    /// Replaces an admin's password hash, marks whether it is a one-time password, and ends every session of theirs but
    /// `keepingSession` (the hash of the session that made the change, if any), with the audit event.
    func changeAdminPassword(
        named name: String,
        passwordHash: String,
        oneTime: Bool,
        keepingSession: String?,
        audit: AuditEventRecord
    ) async throws(StorageError) -> AdminChange

    /// Gives an admin another role, with the audit event; the last owner keeps theirs.
    func changeAdminRole(named name: String, to role: AdminRole, audit: AuditEventRecord) async throws(StorageError) -> AdminChange

    /// Removes an admin and their sessions, with the audit event; never the last owner.
    func removeAdmin(named name: String, audit: AuditEventRecord) async throws(StorageError) -> AdminChange

    /// Opens a session after a good sign-in: records it on the admin, ends the browser's previous session and every
    /// ended session, and audits; false when the admin was removed meanwhile.
    func openAdminSession(
        _ session: AdminSessionRecord,
        replacing previousHash: String?,
        audit: AuditEventRecord
    ) async throws(StorageError) -> Bool

    /// The live session a cookie's hash names, with its admin; its idle expiry moves to `idleUntil` (never past its end).
    func adminSession(hash: String, now: Date, idleUntil: Date) async throws(StorageError) -> AdminSession?

    /// Ends one session (sign-out) with its audit event; false when it was gone already.
    func endAdminSession(hash: String, audit: AuditEventRecord) async throws(StorageError) -> Bool

    /// Stores a new secret that is not on yet (replacing a pending one); false when the admin is unknown or has one on.
    func beginAdminTOTP(named name: String, secretSealed: String) async throws(StorageError) -> Bool

    /// Turns the pending secret on (it must still be `secretSealed`), with the step its first code used and the
    /// recovery codes' hashes, and audits; false when it changed meanwhile or is on already.
    func enableAdminTOTP(
        named name: String,
        secretSealed: String,
        acceptedStep: Int,
        recoveryCodeHashes: [String],
        now: Date,
        audit: AuditEventRecord
    ) async throws(StorageError) -> Bool

    /// Records `step` as used when it is later than the last accepted one; false for a replayed or older step.
    func acceptAdminTOTPStep(named name: String, step: Int) async throws(StorageError) -> Bool

    /// Spends one unused recovery code (by its hash), with the audit event; false when it is not one of them.
    func spendAdminRecoveryCode(named name: String, hash: String, audit: AuditEventRecord) async throws(StorageError) -> Bool

    /// Turns the second factor off and forgets its secret and codes, with the audit event (an owner's reset, or the
    /// admin's own choice).
    func resetAdminTOTP(named name: String, audit: AuditEventRecord) async throws(StorageError) -> AdminChange

    /// Replaces the unused recovery codes with these hashes, with the audit event; false when the second factor is off.
    func renewAdminRecoveryCodes(named name: String, hashes: [String], audit: AuditEventRecord) async throws(StorageError) -> Bool
}

/// A live admin session and the admin it belongs to, as the admin realm's handlers see it.
struct AdminSession: Sendable, Equatable {
    var session: AdminSessionRecord
    var admin: AdminUserRecord
}

/// What changing or removing an admin did.
enum AdminChange: Sendable, Equatable {
    /// Done: the admin as it is now (as it was, when removed), and how many of their sessions ended.
    case changed(AdminUserRecord, endedSessions: Int)
    case notFound
    /// Refused: the admin is the last owner, and an owner must remain.
    case lastOwner
}
