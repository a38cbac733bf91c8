import Foundation
import GRDB
import Testing

@testable import Onboarding

/// What the SQLite file keeps of a secret once it is gone: nothing, because the writer overwrites deleted bytes and
/// migration v11 deletes the access tokens that answers kept for an `Idempotency-Key` held before.
@Suite("SQLite: deleted secrets leave no bytes behind")
struct SecretStorageTests {
    static let marker = "EAAAsecret-marker-7c1f0e"

    private func withDatabasePath(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secret-storage-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory.appendingPathComponent("square-onboard.sqlite").path)
    }

    /// Copies whatever the WAL holds into the database file, as the service's checkpointer would, and closes.
    private static func checkpoint(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        try queue.close()
    }

    private static func fileHoldsMarker(_ path: String) throws -> Bool {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        return bytes.range(of: Data(marker.utf8)) != nil
    }

    static let partnerRow = """
        INSERT INTO partner (id, name, displayName, returnUrls, popupOrigins, webhookSecretSealed, createdAt, updatedAt)
        VALUES ('ptn_acme', 'acme', 'Acme', '[]', '[]', 'sb1.x', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
        """

    static func keptAnswer(key: String, body: String) -> String {
        """
        INSERT INTO idempotencyKey (partnerId, key, requestHash, status, body, createdAt)
        VALUES ('ptn_acme', '\(key)', 'h', 200, '\(body)', '2026-01-01 00:00:00.000')
        """
    }

    @Test func aDeletedRowsBytesAreOverwrittenInTheFile() async throws {
        try await withDatabasePath { path in
            let store = try AppDatabase.open(path: path)
            #expect(try await store.write { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") } == 1)
            try await store.write { db in
                try db.execute(sql: Self.partnerRow)
                try db.execute(sql: Self.keptAnswer(key: "k1", body: #"{"access_token":"\#(Self.marker)"}"#))
            }
            try store.close()
            try Self.checkpoint(path)
            #expect(try Self.fileHoldsMarker(path), "the row is in the file once written and checkpointed")

            let reopened = try AppDatabase.open(path: path)
            try await reopened.write { db in try db.execute(sql: "DELETE FROM idempotencyKey") }
            try reopened.close()
            try Self.checkpoint(path)
            let walHolds = FileManager.default.fileExists(atPath: path + "-wal") ? try Self.fileHoldsMarker(path + "-wal") : false
            #expect(!walHolds)
            #expect(!(try Self.fileHoldsMarker(path)), "the deleted row's bytes are gone from the file, not only unlinked")
        }
    }

    @Test func migrationV11DeletesKeptAnswersThatHoldAnAccessTokenAndKeepsTheRest() async throws {
        try await withDatabasePath { path in
            try AppDatabase.restrictFileModes(databasePath: path)
            let queue = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(queue, upTo: "v10: status check due index")
            try await queue.write { db in
                try db.execute(sql: Self.partnerRow)
                try db.execute(sql: Self.keptAnswer(key: "token", body: #"{"access_token":"\#(Self.marker)","token_type":"bearer"}"#))
                try db.execute(sql: Self.keptAnswer(key: "link", body: #"{"id":"lnk_1","url":"https://x.example/connect/lnk_1"}"#))
            }
            try queue.close()
            let store = try AppDatabase.open(path: path)
            #expect(try await store.idempotentAnswer(partnerId: "ptn_acme", key: "token") == nil)
            #expect(try await store.idempotentAnswer(partnerId: "ptn_acme", key: "link")?.body.contains("lnk_1") == true)
            try store.close()
            #expect(!(try Self.fileHoldsMarker(path)))
        }
    }

    @Test func everyAuthorizationOutcomeTheCodeWritesIsInTheLookupTableAndOthersAreRefused() async throws {
        let queue = try DatabaseQueue()
        let store = try AppDatabase(queue)
        for (index, outcome) in AuthorizationOutcome.allCases.enumerated() {
            try await store.beginAuthorization(StoreContractTests.authorization("s\(index)"), audit: StoreContractTests.audit(.authorizationStarted))
            try await store.closeAuthorization(
                stateHash: "s\(index)",
                outcome: outcome,
                link: nil,
                audit: StoreContractTests.audit(.authorizationRefused)
            )
            #expect(try await store.authorization(stateHash: "s\(index)")?.outcome == outcome)
        }
        #expect(throws: DatabaseError.self) { try queue.write { db in try db.execute(sql: "UPDATE authorization SET outcome = 'maybe'") } }
    }
}
