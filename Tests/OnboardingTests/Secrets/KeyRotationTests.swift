import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import OnboardCrypto
import Synchronization
import Testing

@testable import Onboarding

@Suite("square-onboard keys rotate and keys status")
struct KeyRotationTests {
    typealias H = ServiceHarness

    /// A fresh key as `id:base64`, the way `keys generate --id` prints it.
    static func key(_ id: String) throws -> String {
        try KeyRing(keys: [(id, .generate())]).serialized
    }

    /// A browser that started an authorization and consented at Square, but has not opened the callback yet.
    struct PendingAuthorization: Sendable {
        var callback: String
        var cookies: [String: String]
    }

    /// With the service on `keys`: the café and the bike shop connect, and the bookshop stops at Square's answer.
    static func connectTwoAndLeaveOnePending(_ h: H, keys: String) async throws -> (cafeCookies: [String: String], pending: PendingAuthorization) {
        let result = Mutex<([String: String], PendingAuthorization)?>(nil)
        try await h.withService(["onboard.encryptionKeys": keys]) { cafe in
            #expect(try await h.connect(cafe, merchantId: "MLSANDBOXCAFE").status == .seeOther)
            let bike = Browser(client: cafe.client)
            #expect(try await h.connect(bike, merchantId: "MLSANDBOXBIKE").status == .seeOther)
            let book = Browser(client: cafe.client)
            let callback = try await h.startAndConsent(book, merchantId: "MLSANDBOXBOOK")
            result.withLock { $0 = (cafe.cookies, PendingAuthorization(callback: callback, cookies: book.cookies)) }
        }
        return try #require(result.withLock { $0 })
    }

    /// Every sealed value in the database opened through `TokenVault` with `keys`: "what owner" → plaintext.
    static func openAll(_ h: H, keys: String) throws -> [String: String] {
        let vault = TokenVault(keyRing: try KeyRing(parsing: keys))
        return try h.rawDatabase().read { db in
            var opened: [String: String] = [:]
            for connection in try ConnectionRecord.fetchAll(db) {
                let (environment, merchant) = (connection.environment, connection.merchantId)
                if let sealed = connection.sealedAccessToken {
                    opened["access \(merchant)"] = try vault.openAccessToken(sealed, environment: environment, merchantId: merchant).value
                }
                if let sealed = connection.sealedRefreshToken {
                    opened["refresh \(merchant)"] = try vault.openRefreshToken(sealed, environment: environment, merchantId: merchant).value
                }
            }
            for authorization in try AuthorizationRecord.fetchAll(db) {
                opened["verifier \(authorization.stateHash)"] =
                    try vault.openCodeVerifier(authorization.sealedCodeVerifier, stateHash: authorization.stateHash).value
            }
            return opened
        }
    }

    /// How many stored sealed values name each key id, parsed straight from the rows.
    static func keyIDs(_ h: H) throws -> [String: Int] {
        try h.rawDatabase().read { db in
            let values =
                try String.fetchAll(db, sql: "SELECT sealedAccessToken FROM connection WHERE sealedAccessToken IS NOT NULL")
                + String.fetchAll(db, sql: "SELECT sealedRefreshToken FROM connection WHERE sealedRefreshToken IS NOT NULL")
                + String.fetchAll(db, sql: "SELECT sealedCodeVerifier FROM authorization")
            return try values.reduce(into: [:]) { counts, value in counts[try SealedBox(serialized: value).keyID, default: 0] += 1 }
        }
    }

    /// Every stored sealed value, exactly as stored.
    static func storedValues(_ h: H) throws -> [String] {
        try h.rawDatabase().read { db in
            try String.fetchAll(db, sql: "SELECT sealedAccessToken FROM connection WHERE sealedAccessToken IS NOT NULL")
                + String.fetchAll(db, sql: "SELECT sealedRefreshToken FROM connection WHERE sealedRefreshToken IS NOT NULL")
                + String.fetchAll(db, sql: "SELECT sealedCodeVerifier FROM authorization")
        }
    }

    /// Whether Square (the emulator) accepts `accessToken` in RetrieveTokenStatus.
    static func squareAccepts(_ h: H, accessToken: String) async throws -> Bool {
        try await h.square.execute(uri: "/oauth2/token/status", method: .post, headers: [.authorization: "Bearer \(accessToken)"]).status == .ok
    }

    /// Whether Square (the emulator) refreshes with `refreshToken` in the PKCE flow.
    static func squareRefreshes(_ h: H, refreshToken: String) async throws -> Bool {
        let body = #"{"client_id":"\#(H.clientId)","grant_type":"refresh_token","refresh_token":"\#(refreshToken)"}"#
        return try await h.square.execute(
            uri: "/oauth2/token",
            method: .post,
            headers: [.contentType: "application/json"],
            body: ByteBuffer(string: body)
        ).status == .ok
    }

    static func column(_ name: String) throws -> SealedColumn {
        try #require(SealedColumn.all.first { $0.name == name })
    }

    @Test func afterRotationEveryTokenOpensWithTheNewKeyAloneAndTheServiceStillWorks() async throws {
        try await H.run { h in
            let (old, new) = (try Self.key("old"), try Self.key("new"))
            let setup = try await Self.connectTwoAndLeaveOnePending(h, keys: old)
            let before = try Self.openAll(h, keys: old)
            #expect(before.count == 7, "2 access tokens, 2 refresh tokens, 3 verifiers")
            #expect(try Self.keyIDs(h) == ["old": 7])

            try await h.withService(["onboard.encryptionKeys": "\(new),\(old)"]) { _ in
                let report = try await KeyRotation(store: h.database(), keyRing: KeyRing(parsing: "\(new),\(old)")).run()
                #expect(report.columns.map(\.column) == SealedColumn.all.map(\.name))
                #expect(report.columns.map(\.resealed) == [2, 2, 3, 0, 0])
                #expect(report.columns.map(\.skipped) == [0, 0, 0, 0, 0])
                #expect(report.columns.map(\.alreadyCurrent) == [0, 0, 0, 0, 0])
                #expect(report.succeeded)
                #expect(report.removableKeyIDs == ["old"])
                #expect(
                    report.summary.suffix(2) == ["nothing remains under an old key id", "you can now remove key(s) old from onboard.encryptionKeys"]
                )
            }
            #expect(try Self.keyIDs(h) == ["new": 7], "no value remains under old")
            #expect(try Self.openAll(h, keys: new) == before, "the same plaintexts, now opened with the new key alone")

            let again = try await KeyRotation(store: h.database(), keyRing: KeyRing(parsing: "\(new),\(old)")).run()
            #expect(again.columns.map(\.resealed) == [0, 0, 0, 0, 0], "a second run re-seals nothing")
            #expect(again.columns.map(\.alreadyCurrent) == [2, 2, 3, 0, 0])

            try await h.withService(["onboard.encryptionKeys": new]) { book in
                for (name, value) in setup.pending.cookies { book.setCookie(name, value) }
                #expect(try await book.get(setup.pending.callback).status == .seeOther, "the verifier sealed under old still works")
                #expect(try await book.get("/connection").html.contains(#"<code id="merchant-id">MLSANDBOXBOOK</code>"#))

                let tokens = try Self.openAll(h, keys: new)
                #expect(try await Self.squareAccepts(h, accessToken: try #require(tokens["access MLSANDBOXBIKE"])))
                #expect(try await Self.squareRefreshes(h, refreshToken: try #require(tokens["refresh MLSANDBOXBIKE"])))

                let cafe = Browser(client: book.client)
                for (name, value) in setup.cafeCookies { cafe.setCookie(name, value) }
                #expect(try await cafe.get("/connection").html.contains(#"<code id="merchant-id">MLSANDBOXCAFE</code>"#))
                let csrf = try await cafe.csrfToken(on: "/connection")
                #expect(try await cafe.post("/connection/disconnect", form: ["csrf_token": csrf]).status == .seeOther)
                #expect(!h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
            }
        }
    }

    @Test func tokensStayReadableHalfWayThroughARotation() async throws {
        try await H.run { h in
            let (old, new) = (try Self.key("old"), try Self.key("new"))
            let setup = try await Self.connectTwoAndLeaveOnePending(h, keys: old)
            let before = try Self.openAll(h, keys: old)
            let both = try KeyRing(parsing: "\(new),\(old)")
            let rotation = KeyRotation(store: try h.database(), keyRing: both, batchSize: 1)

            // One batch of one access token: the service, on new+old, serves both kinds.
            let first = try await rotation.rotateBatch(of: try Self.column("connection.sealedAccessToken"), after: nil)
            #expect(first.read == 1 && first.resealed == 1)
            #expect(try Self.keyIDs(h) == ["new": 1, "old": 6])
            try await h.withService(["onboard.encryptionKeys": "\(new),\(old)"]) { book in
                let tokens = try Self.openAll(h, keys: "\(new),\(old)")
                #expect(tokens == before)
                #expect(try await Self.squareAccepts(h, accessToken: try #require(tokens["access MLSANDBOXCAFE"])))
                #expect(try await Self.squareAccepts(h, accessToken: try #require(tokens["access MLSANDBOXBIKE"])))
                for (name, value) in setup.pending.cookies { book.setCookie(name, value) }
                #expect(try await book.get(setup.pending.callback).status == .seeOther)
                #expect(try await book.get("/connection").html.contains("MLSANDBOXBOOK"))
            }

            let after = try Self.openAll(h, keys: "\(new),\(old)")
            var lines: [String] = []
            var mixes: [[String: Int]] = []
            let report = try await rotation.run { progress in
                lines.append(progress.line)
                mixes.append(try Self.keyIDs(h))
                #expect(try Self.openAll(h, keys: "\(new),\(old)") == after, "between batches every value opens")
            }
            #expect(report.succeeded)
            #expect(report.columns.map(\.alreadyCurrent) == [2, 1, 0, 0, 0], "the first batch and the bookshop's new connection")
            #expect(report.columns.map(\.resealed) == [1, 2, 3, 0, 0])
            #expect(lines.count == 6, "one progress line per batch of one")
            #expect(lines.first == "re-sealed 1/6 (skipped 0, unreadable 0) in connection.sealedAccessToken")
            #expect(lines.last == "re-sealed 6/6 (skipped 0, unreadable 0) in authorization.sealedCodeVerifier")
            #expect(mixes.contains { $0["new", default: 0] > 1 && $0["old", default: 0] > 1 }, "some batches ran with both keys in use")
            #expect(try Self.openAll(h, keys: new) == after)
        }
    }

    @Test func aRowChangedDuringRotationIsSkippedNotOverwritten() async throws {
        try await H.run { h in
            let (old, new) = (try Self.key("old"), try Self.key("new"))
            let setup = try await Self.connectTwoAndLeaveOnePending(h, keys: old)
            let before = try Self.openAll(h, keys: old)
            let database = try h.database()
            let rotation = KeyRotation(store: database, keyRing: try KeyRing(parsing: "\(new),\(old)"))
            let access = try Self.column("connection.sealedAccessToken")

            // The rotation reads the access tokens and re-seals them …
            let read = try await database.sealedValuesNeedingResealing(in: access, activeKeyID: "new", after: nil, limit: 200)
            #expect(read.count == 2)
            let resealings = try read.map { Resealing(original: $0, resealed: try rotation.reseal($0)) }

            // … meanwhile the café disconnects and the bike shop connects again …
            try await h.withService(["onboard.encryptionKeys": "\(new),\(old)"]) { cafe in
                for (name, value) in setup.cafeCookies { cafe.setCookie(name, value) }
                let csrf = try await cafe.csrfToken(on: "/connection")
                #expect(try await cafe.post("/connection/disconnect", form: ["csrf_token": csrf]).status == .seeOther)
                #expect(try await h.connect(Browser(client: cafe.client), merchantId: "MLSANDBOXBIKE").status == .seeOther)
            }

            // … so the write skips both rows instead of bringing back a revoked or replaced token.
            let written = try await database.replaceSealedValues(in: access, resealings)
            #expect(written.resealed == 0 && written.skipped == 2)
            let environment = "custom"
            #expect(try await database.connection(environment: environment, merchantId: "MLSANDBOXCAFE")?.sealedAccessToken == nil)
            let now = try Self.openAll(h, keys: "\(new),\(old)")
            let bikeToken = try #require(now["access MLSANDBOXBIKE"])
            #expect(bikeToken != before["access MLSANDBOXBIKE"], "the reconnect's token stays")
            #expect(try await Self.squareAccepts(h, accessToken: bikeToken))

            let report = try await rotation.run()
            #expect(report.succeeded && report.removableKeyIDs == ["old"])
            #expect(try Self.keyIDs(h).keys.sorted() == ["new"])
            #expect(try Self.openAll(h, keys: new) == now)
        }
    }

    @Test func aValueNoKeyOpensIsReportedLeftUntouchedAndFailsTheRun() async throws {
        try await H.run { h in
            let (old, new, lost) = (try Self.key("old"), try Self.key("new"), try Self.key("lost"))
            _ = try await Self.connectTwoAndLeaveOnePending(h, keys: old)
            let database = try h.database()
            let environment = "custom"
            let cafe = try #require(try await database.connection(environment: environment, merchantId: "MLSANDBOXCAFE"))
            let bike = try #require(try await database.connection(environment: environment, merchantId: "MLSANDBOXBIKE"))
            // The café's token sealed under a key nobody configured any more; the bike shop's refresh token with one byte changed.
            let orphan = try TokenVault(keyRing: KeyRing(parsing: lost)).sealAccessToken(
                .init("EAAA-orphan"),
                environment: environment,
                merchantId: "MLSANDBOXCAFE"
            )
            let refresh = try #require(bike.sealedRefreshToken)
            var characters = Array(refresh)
            characters[characters.count - 10] = characters[characters.count - 10] == "A" ? "B" : "A"
            let tampered = String(characters)
            try await h.rawDatabase().write { db in
                try db.execute(sql: "UPDATE connection SET sealedAccessToken = ? WHERE id = ?", arguments: [orphan, cafe.id])
                try db.execute(sql: "UPDATE connection SET sealedRefreshToken = ? WHERE id = ?", arguments: [tampered, bike.id])
            }

            let report = try await KeyRotation(store: database, keyRing: KeyRing(parsing: "\(new),\(old)")).run()
            #expect(!report.succeeded)
            #expect(
                report.unreadable.map(\.description) == [
                    "connection.sealedAccessToken row \(cafe.id): key id 'lost' is not configured; left unchanged",
                    "connection.sealedRefreshToken row \(bike.id): does not open with key 'old' (tampered, or copied from another row); left unchanged",
                ]
            )
            #expect(report.columns.map(\.resealed) == [1, 1, 3, 0, 0])
            #expect(report.removableKeyIDs.isEmpty)
            #expect(report.summary.contains("remaining under old key ids: lost (not configured): 1, old: 1"))
            #expect(!report.summary.contains { $0.contains("you can now remove") })
            let after = try #require(try await database.connection(environment: environment, merchantId: "MLSANDBOXCAFE"))
            #expect(after.sealedAccessToken == orphan)
            #expect(try await database.connection(environment: environment, merchantId: "MLSANDBOXBIKE")?.sealedRefreshToken == tampered)
            let printed = report.summary.joined(separator: "\n")
            for value in try Self.storedValues(h) + [refresh] { #expect(!printed.contains(value)) }
            #expect(!printed.contains("EAAA") && !printed.contains("EQAA"))
        }
    }

    @Test func aReSealedValueThatDoesNotOpenIsNeverWritten() async throws {
        try await H.run { h in
            let (old, new) = (try Self.key("old"), try Self.key("new"))
            _ = try await Self.connectTwoAndLeaveOnePending(h, keys: old)
            let stored = try Self.storedValues(h)
            var rotation = KeyRotation(store: try h.database(), keyRing: try KeyRing(parsing: "\(new),\(old)"))
            // A sealer that damages its output, as a faulty key or library would: the check must catch every value.
            rotation.seal = { ring, plaintext, context in
                var damaged = Array(try ring.seal(plaintext, context: context).serialized)
                damaged[damaged.count - 5] = damaged[damaged.count - 5] == "A" ? "B" : "A"
                return String(damaged)
            }
            let report = try await rotation.run()
            #expect(!report.succeeded)
            #expect(report.columns.map(\.resealed) == [0, 0, 0, 0, 0])
            #expect(report.unreadable.count == 7)
            #expect(report.unreadable.allSatisfy { $0.reason == "its re-sealed value did not open under the active key" })
            #expect(try Self.storedValues(h) == stored, "every row keeps the value it had")
            #expect(try Self.keyIDs(h) == ["old": 7])
        }
    }

    @Test func keysStatusCountsSealedValuesPerColumnAndKey() async throws {
        try await H.run { h in
            let (old, new) = (try Self.key("old"), try Self.key("new"))
            _ = try await Self.connectTwoAndLeaveOnePending(h, keys: old)
            let rotation = KeyRotation(store: try h.database(), keyRing: try KeyRing(parsing: "\(new),\(old)"), batchSize: 1)
            _ = try await rotation.rotateBatch(of: try Self.column("authorization.sealedCodeVerifier"), after: nil)

            let census = try await rotation.census()
            #expect(census.columns.map(\.column) == SealedColumn.all.map(\.name))
            #expect(census.columns.map { $0.counts.map(\.keyID) } == [["old"], ["old"], ["new", "old"], [], []])
            #expect(census.columns.map { $0.counts.map(\.count) } == [[2], [2], [1, 2], [], []])
            #expect(
                census.lines == [
                    "active key: new; configured: new, old",
                    "  connection.sealedAccessToken      old: 2",
                    "  connection.sealedRefreshToken     old: 2",
                    "  authorization.sealedCodeVerifier  new (active): 1, old: 2",
                    "  adminUser.totpSecretSealed        no values",
                    "  partner.webhookSecretSealed       no values",
                    "remaining under old key ids: old: 6",
                    "run 'square-onboard keys rotate' to move them onto 'new'",
                ]
            )
            _ = try await rotation.run()
            let done = try await rotation.census()
            #expect(done.lines.suffix(2) == ["nothing remains under an old key id", "you can remove key(s) old from onboard.encryptionKeys"])
        }
    }

    @Test func theCommandsReportToTheOperatorAndExitOneWhileAValueCannotBeOpened() async throws {
        try await H.run { h in
            let (old, new, lost) = (try Self.key("old"), try Self.key("new"), try Self.key("lost"))
            _ = try await Self.connectTwoAndLeaveOnePending(h, keys: lost)
            // Three verifiers under a key the operator forgot to configure, then everything else under the one being retired.
            _ = try await Self.connectTwoAndLeaveOnePending(h, keys: old)
            var environment = [
                "SQUARE_CLIENT_ID": H.clientId, "SQUARE_ENVIRONMENT": "http://127.0.0.1:\(h.emulatorPort)",
                "DATA_DIRECTORY": h.dataDirectory, "ONBOARD_ENCRYPTION_KEYS": "\(new),\(old)",
            ]

            let status = try BuiltExecutable.run(["keys", "status"], environment: environment, in: h.dataDirectory)
            #expect(status.exitCode == 0)
            #expect(status.stdout.contains("  connection.sealedAccessToken      old: 2\n"))
            #expect(status.stdout.contains("  authorization.sealedCodeVerifier  lost (not configured): 3, old: 3\n"))

            let failing = try BuiltExecutable.run(["keys", "rotate", "--batch-size", "2"], environment: environment, in: h.dataDirectory)
            #expect(failing.exitCode == 1)
            #expect(failing.stderr.contains("re-sealed 2/10 (skipped 0, unreadable 0) in connection.sealedAccessToken\n"))
            #expect(failing.stderr.contains("3 sealed value(s) could not be opened with any configured key and were left unchanged"))
            #expect(failing.stdout.contains("unreadable: authorization.sealedCodeVerifier row "))
            #expect(failing.stdout.contains("remaining under old key ids: lost (not configured): 3\n"))
            #expect(!failing.stdout.contains("you can now remove"))
            for value in try Self.storedValues(h) { #expect(!(failing.stdout + failing.stderr).contains(value)) }

            environment["ONBOARD_ENCRYPTION_KEYS"] = "\(new),\(old),\(lost)"
            let fixed = try BuiltExecutable.run(["keys", "rotate"], environment: environment, in: h.dataDirectory)
            #expect(fixed.exitCode == 0)
            #expect(fixed.stdout.hasSuffix("nothing remains under an old key id\nyou can now remove key(s) old, lost from onboard.encryptionKeys\n"))
            #expect(try Self.keyIDs(h) == ["new": 10])

            let badFlag = try BuiltExecutable.run(["keys", "rotate", "--batch-size", "0"], environment: environment, in: h.dataDirectory)
            #expect(badFlag.exitCode == 64 && badFlag.stderr.contains("'--batch-size' must be a whole number from 1 to 10000"))
        }
    }
}
