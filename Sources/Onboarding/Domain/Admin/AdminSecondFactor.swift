import Foundation
import Logging
import OnboardCrypto

/// An admin's optional second factor: a TOTP secret sealed bound to the admin's name, and ten one-time recovery codes
/// kept only as hashes.
struct AdminSecondFactor: Sendable {
    let store: any AdminStore
    let vault: TokenVault
    let clock: AppClock
    let logger: Logger
    /// The issuer authenticator apps show beside the code.
    let issuer: String

    /// Steps either side of now a code may be from (clocks drift; typing takes time).
    static let window = 1

    /// A secret waiting for its first code: what the admin types into an authenticator app.
    struct Enrolment: Sendable, Equatable {
        var secret: String
        var otpauthURL: String
    }

    /// What a code typed at sign-in was.
    enum Check: Sendable, Equatable {
        case totp
        case recoveryCode(remaining: Int)
        case wrong
    }

    /// A fresh secret for `admin`, sealed and stored as pending (replacing an earlier pending one).
    func begin(_ admin: AdminUserRecord) async throws(AdminError) -> Enrolment {
        let secret = TOTP.generateSecret()
        let sealed: String
        do {
            sealed = try vault.sealAdminTOTPSecret(secret, adminName: admin.name)
        } catch {
            logger.error("Could not seal a TOTP secret", metadata: ["error": "\(error)"])
            throw .storageUnavailable
        }
        let stored = try await storingAdmin("storing a pending TOTP secret", logger: logger) {
            try await store.beginAdminTOTP(named: admin.name, secretSealed: sealed)
        }
        guard stored else { throw .secondFactorAlreadyOn }
        return try enrolment(secret, admin: admin.name)
    }

    /// The pending secret of `admin`, to show again; nil when there is none (or it is on already).
    func pending(_ admin: AdminUserRecord) throws(AdminError) -> Enrolment? {
        guard !admin.totpEnabled, let sealed = admin.totpSecretSealed, let secret = open(sealed, admin: admin.name) else { return nil }
        return try enrolment(secret, admin: admin.name)
    }

    /// Turns the pending secret on when `code` is its current code; returns the recovery codes, shown only now.
    func enable(_ admin: AdminUserRecord, code: String) async throws(AdminError) -> [String] {
        guard !admin.totpEnabled, let sealed = admin.totpSecretSealed, let secret = open(sealed, admin: admin.name),
            let totp = try? TOTP(secret: secret),
            let step = totp.validate(code, at: clock.now(), window: Self.window)
        else { throw .secondFactorCodeWrong }
        let codes = RecoveryCodes.generate()
        let now = clock.now()
        let enabled = try await storingAdmin("turning a second factor on", logger: logger) {
            try await store.enableAdminTOTP(
                named: admin.name,
                secretSealed: sealed,
                acceptedStep: step,
                recoveryCodeHashes: codes.compactMap(Self.recoveryHash),
                now: now,
                audit: AuditEventRecord(occurredAt: now, actor: .admin(admin.name), action: .adminTOTPEnabled, detail: "10 recovery codes")
            )
        }
        guard enabled else { throw .secondFactorCodeWrong }
        logger.info("Admin second factor turned on", metadata: ["admin": .string(admin.name)])
        return codes
    }

    /// Checks a sign-in code: the current TOTP code (each step accepted once) or an unused recovery code (then spent).
    func check(_ admin: AdminUserRecord, code: String, clientAddress: String) async throws(AdminError) -> Check {
        guard admin.totpEnabled, let sealed = admin.totpSecretSealed, let secret = open(sealed, admin: admin.name),
            let totp = try? TOTP(secret: secret)
        else { return .wrong }
        if let step = totp.validate(code, at: clock.now(), window: Self.window, after: admin.totpLastStep) {
            let accepted = try await storingAdmin("recording a TOTP step", logger: logger) {
                try await store.acceptAdminTOTPStep(named: admin.name, step: step)
            }
            return accepted ? .totp : .wrong
        }
        guard let hash = RecoveryCodes.normalized(code).flatMap(Self.recoveryHash) else { return .wrong }
        let now = clock.now()
        let spent = try await storingAdmin("spending a recovery code", logger: logger) {
            try await store.spendAdminRecoveryCode(
                named: admin.name,
                hash: hash,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: .admin(admin.name),
                    action: .adminRecoveryCodeUsed,
                    detail: "address=\(clientAddress)"
                )
            )
        }
        guard spent else { return .wrong }
        let remaining = try await storingAdmin("reading an admin", logger: logger) { try await store.admin(named: admin.name) }
        return .recoveryCode(remaining: remaining?.unusedRecoveryCodes ?? 0)
    }

    /// Turns another admin's second factor off (an owner's reset, for a lost phone); audited with the owner's name.
    func reset(named name: String, by owner: String) async throws(AdminError) {
        let change = try await storingAdmin("resetting a second factor", logger: logger) {
            try await store.resetAdminTOTP(
                named: name,
                audit: AuditEventRecord(occurredAt: clock.now(), actor: .admin(owner), action: .adminTOTPReset, detail: "admin=\(name)")
            )
        }
        guard case .changed = change else { throw .unknownAdmin(name) }
        logger.notice("Admin second factor reset", metadata: ["admin": .string(name), "by": .string(owner)])
    }

    /// Turns the admin's own second factor off (their password confirmed before), audited.
    func turnOff(_ admin: AdminUserRecord) async throws(AdminError) {
        let change = try await storingAdmin("turning a second factor off", logger: logger) {
            try await store.resetAdminTOTP(
                named: admin.name,
                audit: AuditEventRecord(occurredAt: clock.now(), actor: .admin(admin.name), action: .adminTOTPDisabled, detail: "admin=\(admin.name)")
            )
        }
        guard case .changed = change else { throw .unknownAdmin(admin.name) }
        logger.notice("Admin turned their second factor off", metadata: ["admin": .string(admin.name)])
    }

    /// Ten new recovery codes for the admin (their password confirmed before), shown only now; the old ones end.
    func renewRecoveryCodes(_ admin: AdminUserRecord) async throws(AdminError) -> [String] {
        let codes = RecoveryCodes.generate()
        let renewed = try await storingAdmin("renewing recovery codes", logger: logger) {
            try await store.renewAdminRecoveryCodes(
                named: admin.name,
                hashes: codes.compactMap(Self.recoveryHash),
                audit: AuditEventRecord(
                    occurredAt: clock.now(),
                    actor: .admin(admin.name),
                    action: .adminRecoveryCodesRenewed,
                    detail: "\(codes.count) recovery codes"
                )
            )
        }
        guard renewed else { throw .secondFactorOff }
        logger.notice("Admin renewed their recovery codes", metadata: ["admin": .string(admin.name)])
        return codes
    }

    /// The SHA-256 of a recovery code's canonical form: all that is stored of it.
    static func recoveryHash(_ code: String) -> String? {
        RecoveryCodes.normalized(code).map(sha256Hex)
    }

    private func open(_ sealed: String, admin: String) -> [UInt8]? {
        do {
            return try vault.openAdminTOTPSecret(sealed, adminName: admin)
        } catch {
            logger.error("Could not open a TOTP secret", metadata: ["admin": .string(admin), "error": "\(error)"])
            return nil
        }
    }

    private func enrolment(_ secret: [UInt8], admin: String) throws(AdminError) -> Enrolment {
        guard let totp = try? TOTP(secret: secret) else { throw .storageUnavailable }
        return Enrolment(secret: Base32.encode(secret), otpauthURL: totp.otpauthURL(issuer: issuer, account: admin))
    }
}

extension AdminUserRecord {
    /// How many recovery codes are left.
    var unusedRecoveryCodes: Int { (recoveryCodeHashes ?? "").split(separator: " ").count }
}
