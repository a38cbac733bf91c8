import Foundation
import GRDB

/// The admin second factor: a pending secret, turning it on, each accepted step once, recovery codes spent once.
extension AppDatabase {
    func beginAdminTOTP(named name: String, secretSealed: String) async throws(StorageError) -> Bool {
        try await write { db in
            guard var admin = try Self.admin(db, named: name), !admin.totpEnabled else { return false }
            admin.totpSecretSealed = secretSealed
            admin.totpLastStep = nil
            admin.recoveryCodeHashes = nil
            try admin.update(db)
            return true
        }
    }

    func enableAdminTOTP(
        named name: String,
        secretSealed: String,
        acceptedStep: Int,
        recoveryCodeHashes: [String],
        now: Date,
        audit: AuditEventRecord
    ) async throws(StorageError) -> Bool {
        try await write { db in
            guard var admin = try Self.admin(db, named: name), !admin.totpEnabled, admin.totpSecretSealed == secretSealed else {
                return false
            }
            admin.totpEnabledAt = now
            admin.totpLastStep = acceptedStep
            admin.recoveryCodeHashes = recoveryCodeHashes.joined(separator: " ")
            try admin.update(db)
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    func acceptAdminTOTPStep(named name: String, step: Int) async throws(StorageError) -> Bool {
        try await write { db in
            guard var admin = try Self.admin(db, named: name), admin.totpEnabled else { return false }
            if let last = admin.totpLastStep, step <= last { return false }
            admin.totpLastStep = step
            try admin.update(db)
            return true
        }
    }

    func spendAdminRecoveryCode(named name: String, hash: String, audit: AuditEventRecord) async throws(StorageError) -> Bool {
        try await write { db in
            guard var admin = try Self.admin(db, named: name), admin.totpEnabled else { return false }
            var unused = (admin.recoveryCodeHashes ?? "").split(separator: " ").map(String.init)
            guard let index = unused.firstIndex(of: hash) else { return false }
            unused.remove(at: index)
            admin.recoveryCodeHashes = unused.joined(separator: " ")
            try admin.update(db)
            var audit = audit
            try audit.insert(db)
            return true
        }
    }

    func resetAdminTOTP(named name: String, audit: AuditEventRecord) async throws(StorageError) -> AdminChange {
        try await write { db in
            guard var admin = try Self.admin(db, named: name) else { return .notFound }
            admin.totpSecretSealed = nil
            admin.totpEnabledAt = nil
            admin.totpLastStep = nil
            admin.recoveryCodeHashes = nil
            try admin.update(db)
            var audit = audit
            try audit.insert(db)
            return .changed(admin, endedSessions: 0)
        }
    }

    func renewAdminRecoveryCodes(named name: String, hashes: [String], audit: AuditEventRecord) async throws(StorageError) -> Bool {
        try await write { db in
            guard var admin = try Self.admin(db, named: name), admin.totpEnabled else { return false }
            admin.recoveryCodeHashes = hashes.joined(separator: " ")
            try admin.update(db)
            var audit = audit
            try audit.insert(db)
            return true
        }
    }
}
