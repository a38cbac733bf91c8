import Foundation
import Logging
import NIOPosix
import OnboardCrypto

/// Signing admins in and out: password checks off the async pool, a throttle on failures (counted in the database,
/// per name and, with a far higher bound, per address), server-side sessions.
struct AdminSessions: Sendable {
    let store: any AdminStore & SignInStore & AuditLog
    let settings: AdminSettings
    let clock: AppClock
    let logger: Logger
    /// Checked when the name is unknown, so an unknown name costs the same scrypt work as a wrong password.
    let unknownNameHash: String
    /// The optional TOTP second factor, asked for after the password.
    let secondFactor: AdminSecondFactor
    /// Signs the challenge that carries a checked password over to the code step.
    let keyRing: KeyRing
    static let challengePurpose = "admin-second-factor"
    /// How long the code step may take after the password.
    static let challengeLifetime: TimeInterval = 300

    init(
        store: any AdminStore & SignInStore & AuditLog,
        settings: AdminSettings,
        clock: AppClock,
        logger: Logger,
        keyRing: KeyRing,
        vault: TokenVault,
        issuer: String
    ) {
        self.store = store
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.keyRing = keyRing
        secondFactor = AdminSecondFactor(store: store, vault: vault, clock: clock, logger: logger, issuer: issuer)
        // Any salt and digest will do: nothing matches it, and checking it runs scrypt at the cost new hashes use.
        let cost = PasswordHash.Parameters.interactive
        unknownNameHash =
            "$scrypt$ln=\(cost.logN),r=\(cost.r),p=\(cost.p)$"
            + "\(Base64URL.encode(SecureRandom.bytes(count: 16)))$\(Base64URL.encode(SecureRandom.bytes(count: 32)))"
    }

    /// A new session: the cookie's value (stored only as its hash) and the session as stored.
    struct SignedIn: Sendable {
        var token: String
        var session: AdminSession
    }

    /// Checks a name and password; opens a session when they match, replacing the browser's previous one.
    ///
    /// A wrong password and an unknown name fail alike, after the same work. Failures count against the name (up to
    /// `signInMaxFailures` in the window) and the client address (up to `signInMaxFailuresPerAddress`); a key at its
    /// limit refuses further tries, right or wrong, until it clears, and only that key: a name's lockout never
    /// refuses another admin at the same address.
    func signIn(name typed: String, password: String, clientAddress: String, previousToken: String?) async throws(AdminError) -> SignedIn {
        let name = typed.trimmingCharacters(in: .whitespaces).lowercased()
        let nameIsValid = AdminAccounts.isValidName(name)
        let nameKey = nameIsValid ? "name:" + name : nil
        let keys = throttleKeys(nameKey: nameKey, clientAddress: clientAddress)
        let attemptedAt = clock.now()
        let counts = try await countTry(keys, at: attemptedAt, clientAddress: clientAddress)
        let admin = nameIsValid ? try await storingAdmin("reading an admin", logger: logger) { try await store.admin(named: name) } : nil
        let matches = await verify(password, against: admin?.passwordHash ?? unknownNameHash)
        let now = clock.now()
        guard let admin, let adminId = admin.id, matches else {
            // An unknown name is not written anywhere: people type passwords into name fields.
            try await auditFailure(
                actor: admin.map { .admin($0.name) } ?? .system,
                "\(admin == nil ? "unknown name" : "wrong password")",
                clientAddress: clientAddress,
                at: now
            )
            logger.notice(
                "Admin sign-in failed",
                metadata: ["admin": .string(admin?.name ?? "(unknown name)"), "client_address": .string(clientAddress)]
            )
            try await auditLockouts(keys, counts: counts, admin: admin?.name, clientAddress: clientAddress, at: now)
            throw .signInFailed
        }
        if admin.totpEnabled {
            // The password is right, but no session exists before the code: this try is taken back, the count stays.
            try await takeBack(keys, at: attemptedAt, clearing: nil)
            let expires = Int(now.addingTimeInterval(Self.challengeLifetime).timeIntervalSince1970)
            // The nonce makes the challenge single-use: its hash is the admin's one open challenge, spent on success.
            let nonce = SecureRandom.urlSafeToken(byteCount: 16)
            try await storingAdmin("opening a second-factor challenge", logger: logger) {
                try await store.beginSecondFactorChallenge(adminId: adminId, challengeHash: sha256Hex(nonce))
            }
            // Names may hold dots, which separate a signed value's parts: the value travels as Base64URL.
            let value = Base64URL.encode(Array("\(admin.name)|\(expires)|\(nonce)".utf8))
            throw .secondFactorRequired(challenge: keyRing.sign(value, purpose: Self.challengePurpose))
        }
        try await takeBack(keys, at: attemptedAt, clearing: nameKey)
        return try await openSession(admin, adminId: adminId, now: now, clientAddress: clientAddress, previousToken: previousToken)
    }

    /// The code step after a right password: the admin's current TOTP code or a recovery code (then spent).
    ///
    /// Counted by the same throttle as passwords; a wrong, replayed or spent code is a failed sign-in.
    func completeSignIn(challenge: String, code: String, clientAddress: String, previousToken: String?) async throws(AdminError) -> SignedIn {
        let value = keyRing.verified(challenge, purpose: Self.challengePurpose).flatMap { Base64URL.decode($0) }
        let parts = value.map { String(decoding: $0, as: UTF8.self) }?.split(separator: "|").map(String.init) ?? []
        guard parts.count == 3, let expires = TimeInterval(parts[1]), clock.now().timeIntervalSince1970 < expires else {
            throw .signInFailed
        }
        let name = parts[0]
        let nameKey = "name:" + name
        let keys = throttleKeys(nameKey: nameKey, clientAddress: clientAddress)
        let attemptedAt = clock.now()
        let counts = try await countTry(keys, at: attemptedAt, clientAddress: clientAddress)
        guard let admin = try await storingAdmin("reading an admin", logger: logger, { try await store.admin(named: name) }),
            let adminId = admin.id
        else { throw .signInFailed }
        let checked = try await secondFactor.check(admin, code: code, clientAddress: clientAddress)
        let now = clock.now()
        guard checked != .wrong else {
            try await auditFailure(actor: .admin(admin.name), "wrong code", clientAddress: clientAddress, at: now)
            logger.notice("Admin sign-in code wrong", metadata: ["admin": .string(admin.name), "client_address": .string(clientAddress)])
            try await auditLockouts(keys, counts: counts, admin: admin.name, clientAddress: clientAddress, at: now)
            throw .secondFactorCodeWrong
        }
        // One challenge, one session: a second code (the next TOTP step, a recovery code) on it opens nothing.
        let spent = try await storingAdmin("spending a second-factor challenge", logger: logger) {
            try await store.spendSecondFactorChallenge(adminId: adminId, challengeHash: sha256Hex(parts[2]))
        }
        guard spent else { throw .signInFailed }
        try await takeBack(keys, at: attemptedAt, clearing: nameKey)
        let how = if case .recoveryCode(let remaining) = checked { "recovery code, \(remaining) left" } else { "TOTP" }
        return try await openSession(
            admin,
            adminId: adminId,
            now: now,
            clientAddress: clientAddress,
            previousToken: previousToken,
            detail: "second factor=\(how)"
        )
    }

    /// A new session after every check passed, replacing the browser's previous one.
    private func openSession(
        _ admin: AdminUserRecord,
        adminId: Int64,
        now: Date,
        clientAddress: String,
        previousToken: String?,
        detail: String? = nil
    ) async throws(AdminError) -> SignedIn {
        let token = SecureRandom.urlSafeToken()
        let session = AdminSessionRecord(
            sessionHash: sha256Hex(token),
            adminUserId: adminId,
            csrfToken: SecureRandom.urlSafeToken(),
            createdAt: now,
            lastSeenAt: now,
            idleExpiresAt: now.addingTimeInterval(min(settings.sessionIdleTimeout, settings.sessionLifetime)),
            expiresAt: now.addingTimeInterval(settings.sessionLifetime)
        )
        let opened = try await storingAdmin("opening an admin session", logger: logger) {
            try await store.openAdminSession(
                session,
                replacing: previousToken.map(sha256Hex),
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: .admin(admin.name),
                    action: .adminSignedIn,
                    detail: (["address=\(clientAddress)"] + [detail].compactMap { $0 }).joined(separator: "; ")
                )
            )
        }
        guard opened else { throw .signInFailed }
        logger.info("Admin signed in", metadata: ["admin": .string(admin.name), "role": .string(admin.role.rawValue)])
        var signedIn = admin
        signedIn.lastSignInAt = now
        return SignedIn(token: token, session: AdminSession(session: session, admin: signedIn))
    }

    /// The live session a cookie names, its idle expiry moved forward; nil when there is none.
    func session(token: String) async throws(AdminError) -> AdminSession? {
        let now = clock.now()
        return try await storingAdmin("reading an admin session", logger: logger) {
            try await store.adminSession(hash: sha256Hex(token), now: now, idleUntil: now.addingTimeInterval(settings.sessionIdleTimeout))
        }
    }

    /// Ends a session (sign-out).
    func signOut(_ session: AdminSession, clientAddress: String) async throws(AdminError) {
        let now = clock.now()
        try await storingAdmin("ending an admin session", logger: logger) {
            _ = try await store.endAdminSession(
                hash: session.session.sessionHash,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: .admin(session.admin.name),
                    action: .adminSignedOut,
                    detail: "address=\(clientAddress)"
                )
            )
        }
        logger.info("Admin signed out", metadata: ["admin": .string(session.admin.name)])
    }

    private func verify(_ password: String, against hash: String) async -> Bool {
        await AdminAccounts.passwordMatches(password, hash: hash)
    }

    /// Checks the signed-in admin's password before a change to their own account, counted by the sign-in throttle
    /// (a stolen session must not become a way to guess the password); a wrong one is audited like a failed sign-in.
    func confirmPassword(_ session: AdminSession, password: String, clientAddress: String) async throws(AdminError) {
        let admin = session.admin
        let keys = throttleKeys(nameKey: "name:" + admin.name, clientAddress: clientAddress)
        let attemptedAt = clock.now()
        let counts = try await countTry(keys, at: attemptedAt, clientAddress: clientAddress)
        guard await verify(password, against: admin.passwordHash) else {
            let now = clock.now()
            try await auditFailure(actor: .admin(admin.name), "wrong password when confirming a change", clientAddress: clientAddress, at: now)
            try await auditLockouts(keys, counts: counts, admin: admin.name, clientAddress: clientAddress, at: now)
            throw .passwordNotConfirmed
        }
        try await takeBack(keys, at: attemptedAt, clearing: nil)
    }

    /// Audits a failed try (`admin.sign_in_failed`): what was wrong, and the client address.
    private func auditFailure(actor: AuditActor, _ what: String, clientAddress: String, at now: Date) async throws(AdminError) {
        let event = AuditEventRecord(occurredAt: now, actor: actor, action: .adminSignInFailed, detail: "\(what); address=\(clientAddress)")
        try await storingAdmin("auditing a failed sign-in", logger: logger) { try await store.appendAudit(event) }
    }

    // MARK: The throttle

    /// The keys a try counts against: the name (when it could be one) and the client address, each with its limit.
    private func throttleKeys(nameKey: String?, clientAddress: String) -> [SignInKey] {
        [
            nameKey.map { SignInKey(key: $0, limit: settings.signInMaxFailures) },
            SignInKey(key: "address:" + clientAddress, limit: settings.signInMaxFailuresPerAddress),
        ].compactMap { $0 }
    }

    /// Counts a try as a failure from the start (taken back if it does not fail), so tries made at once cannot pass
    /// the limit together; refused, `signInThrottled` with the seconds to wait.
    private func countTry(_ keys: [SignInKey], at now: Date, clientAddress: String) async throws(AdminError) -> [String: Int] {
        let since = now.addingTimeInterval(-settings.signInWindow)
        let counted = try await storingAdmin("counting a sign-in try", logger: logger) {
            try await store.countSignInTry(keys, now: now, since: since)
        }
        switch counted {
        case .counted(let counts):
            return counts
        case .refused(let until):
            logger.warning("Admin sign-in refused: too many failures", metadata: ["client_address": .string(clientAddress)])
            throw .signInThrottled(retryAfter: max(1, Int(until.timeIntervalSince(now).rounded(.up))))
        }
    }

    private func takeBack(_ keys: [SignInKey], at time: Date, clearing cleared: String?) async throws(AdminError) {
        try await storingAdmin("taking back a sign-in try", logger: logger) {
            try await store.takeBackSignInTry(keys: keys.map(\.key), at: time, clearing: cleared)
        }
    }

    /// Audits each key this failure brought to its limit: a known admin's name, or the address (an unknown name is
    /// never written: people type passwords into name fields). The lockout ends when the window has passed.
    private func auditLockouts(
        _ keys: [SignInKey],
        counts: [String: Int],
        admin: String?,
        clientAddress: String,
        at now: Date
    ) async throws(AdminError) {
        let minutes = Int(settings.signInWindow / 60)
        for key in keys where counts[key.key] == key.limit {
            let isAddress = key.key.hasPrefix("address:")
            guard isAddress || admin != nil else { continue }
            let until = ISO8601DateFormatter().string(from: now.addingTimeInterval(settings.signInWindow))
            let subject = isAddress ? "address=\(clientAddress)" : "admin=\(admin ?? "")"
            let event = AuditEventRecord(
                occurredAt: now,
                actor: isAddress ? .system : .admin(admin ?? ""),
                action: .adminLockedOut,
                detail: "\(subject) failures=\(key.limit) window=\(minutes)m until=\(until)"
                    + (isAddress ? "" : " (or until square-onboard admin unlock)")
            )
            try await storingAdmin("auditing a lockout", logger: logger) { try await store.appendAudit(event) }
            logger.warning("Admin sign-in locked out", metadata: ["subject": .string(subject), "until": .string(until)])
        }
    }
}
