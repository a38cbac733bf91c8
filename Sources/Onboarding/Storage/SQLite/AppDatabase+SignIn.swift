import Foundation
import GRDB

extension AppDatabase {
    func countSignInTry(_ keys: [SignInKey], now: Date, since: Date) async throws(StorageError) -> SignInCount {
        try await write { db in
            var counts: [String: Int] = [:]
            var refusedUntil: Date?
            for key in keys {
                // Failures that left the window are of no use to anyone: each try sweeps its own keys.
                try db.execute(sql: #"DELETE FROM "signInFailure" WHERE "key" = ? AND "failedAt" <= ?"#, arguments: [key.key, since])
                let count = try Int.fetchOne(db, sql: #"SELECT COUNT(*) FROM "signInFailure" WHERE "key" = ?"#, arguments: [key.key]) ?? 0
                if count >= key.limit {
                    // Once the `limit`-th newest failure leaves the window, fewer than `limit` remain.
                    let blocking = try Date.fetchOne(
                        db,
                        sql: #"SELECT "failedAt" FROM "signInFailure" WHERE "key" = ? ORDER BY "failedAt" DESC LIMIT 1 OFFSET ?"#,
                        arguments: [key.key, key.limit - 1]
                    )
                    if let blocking { refusedUntil = max(refusedUntil ?? .distantPast, blocking) }
                }
                counts[key.key] = count + 1
            }
            if let refusedUntil { return .refused(until: refusedUntil.addingTimeInterval(now.timeIntervalSince(since))) }
            for key in keys {
                try db.execute(sql: #"INSERT INTO "signInFailure" ("key", "failedAt") VALUES (?, ?)"#, arguments: [key.key, now])
            }
            return .counted(counts)
        }
    }

    func takeBackSignInTry(keys: [String], at: Date, clearing cleared: String?) async throws(StorageError) {
        try await write { db in
            for key in keys {
                if key == cleared {
                    try db.execute(sql: #"DELETE FROM "signInFailure" WHERE "key" = ?"#, arguments: [key])
                } else {
                    try db.execute(
                        sql: """
                            DELETE FROM "signInFailure"
                            WHERE rowid = (SELECT rowid FROM "signInFailure" WHERE "key" = ? AND "failedAt" = ? LIMIT 1)
                            """,
                        arguments: [key, at]
                    )
                }
            }
        }
    }

    func clearSignInFailures(key: String, audit: AuditEventRecord) async throws(StorageError) -> Int {
        try await write { db in
            try db.execute(sql: #"DELETE FROM "signInFailure" WHERE "key" = ?"#, arguments: [key])
            let cleared = db.changesCount
            var audit = audit
            try audit.insert(db)
            return cleared
        }
    }

    func beginSecondFactorChallenge(adminId: Int64, challengeHash: String) async throws(StorageError) {
        try await write { db in
            try db.execute(sql: #"UPDATE "adminUser" SET "secondFactorChallengeHash" = ? WHERE "id" = ?"#, arguments: [challengeHash, adminId])
        }
    }

    func spendSecondFactorChallenge(adminId: Int64, challengeHash: String) async throws(StorageError) -> Bool {
        try await write { db in
            try db.execute(
                sql: #"UPDATE "adminUser" SET "secondFactorChallengeHash" = NULL WHERE "id" = ? AND "secondFactorChallengeHash" = ?"#,
                arguments: [adminId, challengeHash]
            )
            return db.changesCount == 1
        }
    }
}
