import Foundation
import Logging
import NIOPosix
import OnboardCrypto

/// The admin accounts: add, list, change role or password, remove; each change one transaction with its audit event.
struct AdminAccounts: Sendable {
    let store: any AdminStore & SignInStore
    let clock: AppClock
    let logger: Logger
    /// scrypt's cost for new hashes; verification reads the cost from each stored hash.
    var hashParameters: PasswordHash.Parameters = .interactive

    static let passwordLength = 10...1024

    /// 1 to 64 of `a-z 0-9 . _ -`, as the schema checks.
    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || [0x2E, 0x5F, 0x2D].contains($0) }
    }

    /// Refuses passwords that are too short, too long or contain control characters.
    static func checkPassword(_ password: String) throws(AdminError) {
        guard password.count >= passwordLength.lowerBound else {
            throw .weakPassword("must have at least \(passwordLength.lowerBound) characters")
        }
        guard password.utf8.count <= passwordLength.upperBound else {
            throw .weakPassword("must have at most \(passwordLength.upperBound) bytes")
        }
        guard !password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .weakPassword("must not contain control characters")
        }
    }

    /// Hashes a password with scrypt on NIO's thread pool: scrypt blocks for its whole run.
    func hash(_ password: String) async throws(AdminError) -> String {
        let parameters = hashParameters
        do {
            return try await NIOThreadPool.singleton.runIfActive { try PasswordHash.hash(password, parameters: parameters) }
        } catch {
            logger.error("Could not hash a password", metadata: ["error_type": "\(type(of: error))"])
            throw .storageUnavailable
        }
    }

    /// Adds an admin with a new password.
    func add(name: String, role: AdminRole, password: String, actor: AuditActor) async throws(AdminError) -> AdminUserRecord {
        guard Self.isValidName(name) else { throw .invalidName }
        try Self.checkPassword(password)
        let passwordHash = try await hash(password)
        let now = clock.now()
        let added = try await storingAdmin("adding an admin", logger: logger) {
            try await store.addAdmin(
                AdminUserRecord(name: name, role: role, passwordHash: passwordHash, createdAt: now),
                audit: AuditEventRecord(occurredAt: now, actor: actor, action: .adminAdded, detail: "admin=\(name) role=\(role.rawValue)")
            )
        }
        guard let added else { throw .nameTaken(name) }
        logger.notice("Admin added", metadata: ["admin": .string(name), "role": .string(role.rawValue)])
        return added
    }

    /// Adds an admin with a random one-time password, returned to be shown once: until they choose their own, every
    /// dashboard page but that choice is closed to them.
    func addWithOneTimePassword(name: String, role: AdminRole, actor: AuditActor) async throws(AdminError) -> (AdminUserRecord, String) {
        guard Self.isValidName(name) else { throw .invalidName }
        let password = SecureRandom.urlSafeToken(byteCount: 12)
        let passwordHash = try await hash(password)
        let now = clock.now()
        var record = AdminUserRecord(name: name, role: role, passwordHash: passwordHash, createdAt: now)
        record.passwordChangeRequired = true
        let added = try await storingAdmin("adding an admin", logger: logger) {
            try await store.addAdmin(
                record,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: actor,
                    action: .adminAdded,
                    detail: "admin=\(name) role=\(role.rawValue) one-time password"
                )
            )
        }
        guard let added else { throw .nameTaken(name) }
        logger.notice("Admin added", metadata: ["admin": .string(name), "role": .string(role.rawValue)])
        return (added, password)
    }

    /// The signed-in admin chooses a new password (their current one confirmed before): their other sessions end,
    /// this one stays, and a one-time password is one no longer.
    func changeOwnPassword(_ session: AdminSession, to password: String) async throws(AdminError) {
        let name = session.admin.name
        try await setPassword(password, of: name, keepingSession: session.session.sessionHash, actor: .admin(name), detail: " own")
    }

    /// scrypt on NIO's thread pool; a malformed stored hash never matches.
    static func passwordMatches(_ password: String, hash: String) async -> Bool {
        (try? await NIOThreadPool.singleton.runIfActive { try PasswordHash.verify(password, against: hash) }) ?? false
    }

    /// Every admin, by name.
    func list() async throws(AdminError) -> [AdminUserRecord] {
        try await storingAdmin("listing admins", logger: logger) { try await store.allAdmins() }
    }

    /// Sets a new password and signs the admin out everywhere; returns how many sessions ended.
    @discardableResult
    func resetPassword(name: String, password: String, actor: AuditActor) async throws(AdminError) -> Int {
        guard Self.isValidName(name) else { throw .unknownAdmin(name) }
        return try await setPassword(password, of: name, keepingSession: nil, actor: actor, detail: "")
    }

    /// Checks, hashes and stores a password the admin chose (so not a one-time one), ending their sessions but
    /// `keepingSession`; how many ended.
    @discardableResult
    private func setPassword(
        _ password: String,
        of name: String,
        keepingSession: String?,
        actor: AuditActor,
        detail: String
    ) async throws(AdminError) -> Int {
        try Self.checkPassword(password)
        let passwordHash = try await hash(password)
        let now = clock.now()
        let change = try await storingAdmin("changing an admin's password", logger: logger) {
            try await store.changeAdminPassword(
                named: name,
                passwordHash: passwordHash,
                oneTime: false,
                keepingSession: keepingSession,
                audit: AuditEventRecord(occurredAt: now, actor: actor, action: .adminPasswordChanged, detail: "admin=\(name)" + detail)
            )
        }
        let ended = try outcome(of: change, name: name)
        logger.notice("Admin password changed", metadata: ["admin": .string(name), "sessions_ended": .stringConvertible(ended)])
        return ended
    }

    /// Gives an admin another role (the last owner stays an owner).
    func setRole(name: String, role: AdminRole, actor: AuditActor) async throws(AdminError) {
        guard Self.isValidName(name) else { throw .unknownAdmin(name) }
        let now = clock.now()
        let change = try await storingAdmin("changing an admin's role", logger: logger) {
            try await store.changeAdminRole(
                named: name,
                to: role,
                audit: AuditEventRecord(occurredAt: now, actor: actor, action: .adminRoleChanged, detail: "admin=\(name) role=\(role.rawValue)")
            )
        }
        _ = try outcome(of: change, name: name)
        logger.notice("Admin role changed", metadata: ["admin": .string(name), "role": .string(role.rawValue)])
    }

    /// Removes an admin and their sessions (never the last owner); returns how many sessions ended.
    @discardableResult
    func remove(name: String, actor: AuditActor) async throws(AdminError) -> Int {
        guard Self.isValidName(name) else { throw .unknownAdmin(name) }
        let now = clock.now()
        let change = try await storingAdmin("removing an admin", logger: logger) {
            try await store.removeAdmin(
                named: name,
                audit: AuditEventRecord(occurredAt: now, actor: actor, action: .adminRemoved, detail: "admin=\(name)")
            )
        }
        let ended = try outcome(of: change, name: name)
        logger.notice("Admin removed", metadata: ["admin": .string(name)])
        return ended
    }

    /// Ends an admin's sign-in lockout now (their failures are forgotten), audited; how many failures there were.
    func unlock(name: String, actor: AuditActor) async throws(AdminError) -> Int {
        guard Self.isValidName(name), try await storingAdmin("reading an admin", logger: logger, { try await store.admin(named: name) }) != nil
        else { throw .unknownAdmin(name) }
        let now = clock.now()
        let cleared = try await storingAdmin("unlocking an admin", logger: logger) {
            try await store.clearSignInFailures(
                key: "name:" + name,
                audit: AuditEventRecord(occurredAt: now, actor: actor, action: .adminUnlocked, detail: "admin=\(name)")
            )
        }
        logger.notice("Admin unlocked", metadata: ["admin": .string(name), "failures": "\(cleared)"])
        return cleared
    }

    private func outcome(of change: AdminChange, name: String) throws(AdminError) -> Int {
        switch change {
        case .changed(_, let endedSessions): endedSessions
        case .notFound: throw .unknownAdmin(name)
        case .lastOwner: throw .lastOwner(name)
        }
    }
}
