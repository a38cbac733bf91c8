import Foundation
import OnboardCrypto
import Testing

@testable import Onboarding

/// `square-onboard partner …` as an operator runs it: secrets printed once, then only prefixes.
@Suite("square-onboard partner")
struct PartnerCommandTests {
    static let keys = try! KeyRing(keys: [("p1", .generate())]).serialized

    /// `square-onboard partner arguments…` on the folder's database, with its encryption keys.
    static func partner(_ arguments: [String], in folder: String) throws -> BuiltExecutable.Run {
        try BuiltExecutable.run(
            ["partner"] + arguments,
            environment: [
                // Only the database and the keys: the partner commands need no Square settings.
                "PATH": "/usr/bin:/bin", "DATA_DIRECTORY": folder + "/data", "ONBOARD_ENCRYPTION_KEYS": keys,
            ],
            in: folder
        )
    }

    @Test func addListRotateRevokeAndRemove() async throws {
        try await AdminCommandTests.withFolder { folder in
            let added = try Self.partner(
                [
                    "add", "acme", "--display-name", "Acme Payroll", "--return-url", "https://acme.example/onboarding/",
                    "--popup-origin", "https://acme.example", "--webhook-url", "https://acme.example/hooks",
                ],
                in: folder
            )
            #expect(added.exitCode == 0, "\(added.stderr)")
            let key = try #require(added.stdout.firstMatch(of: /(sok_[a-z2-7]{8}_[A-Za-z0-9_-]{43})/)?.output.1)
            let secret = try #require(added.stdout.firstMatch(of: /(whsec_[A-Za-z0-9+\/=]{44})/)?.output.1)

            let list = try Self.partner(["list"], in: folder)
            #expect(list.exitCode == 0)
            #expect(list.stdout.contains("Acme Payroll") && list.stdout.contains("https://acme.example/onboarding/"))
            #expect(list.stdout.contains(String(key.prefix(12)) + "…") && list.stdout.contains("last used never"))
            #expect(!list.stdout.contains(String(key)) && !list.stdout.contains(String(secret)), "secrets are shown once, at creation")

            let rotated = try Self.partner(["rotate-key", "acme"], in: folder)
            #expect(rotated.exitCode == 0 && rotated.stdout.contains("the older keys still work"))
            let revoked = try Self.partner(["revoke-key", "acme", String(key.prefix(12))], in: folder)
            #expect(revoked.exitCode == 0, "\(revoked.stderr)")
            let store = try AppDatabase.open(path: folder + "/data/square-onboard.sqlite")
            #expect(try await store.partnerKey(prefix: String(key.prefix(12))) == nil)
            #expect(try await store.partnerKeys(partnerId: try #require(try await store.partner(named: "acme")).id).count == 2)

            let newSecret = try Self.partner(["rotate-webhook-secret", "acme"], in: folder)
            #expect(newSecret.exitCode == 0 && !newSecret.stdout.contains(String(secret)) && newSecret.stdout.contains("whsec_"))

            let removed = try Self.partner(["remove", "acme"], in: folder)
            #expect(removed.exitCode == 0 && removed.stdout.contains("removed partner 'acme'"))
            let again = try Self.partner(["remove", "acme"], in: folder)
            #expect(again.exitCode == 1 && again.stderr == "square-onboard: no partner is named 'acme'\n")
        }
    }

    @Test func badNamesAndURLsAreRefusedNamingTheProblem() async throws {
        try await AdminCommandTests.withFolder { folder in
            let cases: [([String], Int32, String)] = [
                (["add", "Acme!", "--return-url", "https://a.example/"], 64, "'<name>' must be 1 to 40"),
                (["add", "acme"], 64, "Missing '--return-url <url>'"),
                (["add", "acme", "--return-url", "http://a.example/"], 1, "must use https"),
                (["add", "acme", "--return-url", "https://a.example/x?y=1"], 1, "has no query"),
                (["add", "acme", "--return-url", "https://a.example/", "--popup-origin", "https://a.example/path"], 1, "not an origin"),
                (["add", "acme", "--return-url", "https://u:p@a.example/"], 1, "no user name or password"),
            ]
            for (arguments, code, message) in cases {
                let run = try Self.partner(arguments, in: folder)
                #expect(run.exitCode == code && run.stderr.contains(message), "\(arguments): \(run.exitCode) \(run.stderr)")
            }
        }
    }
}
