import Foundation
import Testing

@testable import Onboarding

/// The sign-in part of the storage contract: tries counted per key in a window, refusals that say until when, tries
/// taken back, an operator's unlock, and a second-factor challenge spent once.
extension StoreContractTests {
    @Test(arguments: engines) func aKeyAtItsLimitIsRefusedUntilItsOldestCountingFailureLeavesTheWindow(engine: StoreEngine) async throws {
        let store = try engine.make()
        let keys = [SignInKey(key: "name:vera", limit: 3), SignInKey(key: "address:a", limit: 100)]
        let window: TimeInterval = 900
        for second in 0..<3 {
            let at = Self.now.addingTimeInterval(TimeInterval(second))
            let count = try await store.countSignInTry(keys, now: at, since: at.addingTimeInterval(-window))
            #expect(count == .counted(["name:vera": second + 1, "address:a": second + 1]))
        }
        let later = Self.now.addingTimeInterval(10)
        let refused = try await store.countSignInTry(keys, now: later, since: later.addingTimeInterval(-window))
        #expect(refused == .refused(until: Self.now.addingTimeInterval(window)), "the third newest failure, at +0 s, keeps it")
        let other = [SignInKey(key: "name:otto", limit: 3), SignInKey(key: "address:a", limit: 100)]
        #expect(
            try await store.countSignInTry(other, now: later, since: later.addingTimeInterval(-window)) == .counted(["name:otto": 1, "address:a": 4])
        )

        let afterWindow = Self.now.addingTimeInterval(window + 0.5)
        let again = try await store.countSignInTry(keys, now: afterWindow, since: afterWindow.addingTimeInterval(-window))
        #expect(again == .counted(["name:vera": 3, "address:a": 4]), "the failures at +0 s left the window")
    }

    @Test(arguments: engines) func aTryIsTakenBackAndAnUnlockForgetsEveryFailure(engine: StoreEngine) async throws {
        let store = try engine.make()
        let keys = [SignInKey(key: "name:vera", limit: 5), SignInKey(key: "address:a", limit: 5)]
        let since = Self.now.addingTimeInterval(-900)
        _ = try await store.countSignInTry(keys, now: Self.now, since: since)
        let second = Self.now.addingTimeInterval(1)
        _ = try await store.countSignInTry(keys, now: second, since: since)
        try await store.takeBackSignInTry(keys: keys.map(\.key), at: second, clearing: nil)
        let third = Self.now.addingTimeInterval(2)
        #expect(try await store.countSignInTry(keys, now: third, since: since) == .counted(["name:vera": 2, "address:a": 2]))
        try await store.takeBackSignInTry(keys: keys.map(\.key), at: third, clearing: "name:vera")
        #expect(try await store.countSignInTry(keys, now: third, since: since) == .counted(["name:vera": 1, "address:a": 2]))

        #expect(try await store.clearSignInFailures(key: "name:vera", audit: Self.audit(.adminUnlocked, actor: .cli)) == 1)
        #expect(try await store.clearSignInFailures(key: "name:vera", audit: Self.audit(.adminUnlocked, actor: .cli)) == 0)
        #expect(try await store.auditEvents().filter { $0.action == .adminUnlocked }.count == 2)
    }

    @Test(arguments: engines) func aSecondFactorChallengeIsSpentOnceAndANewerOneReplacesIt(engine: StoreEngine) async throws {
        let store = try engine.make()
        let admin = try #require(try await Self.addAdmin(store, "olga", .owner).id)
        try await store.beginSecondFactorChallenge(adminId: admin, challengeHash: "first")
        try await store.beginSecondFactorChallenge(adminId: admin, challengeHash: "second")
        #expect(try await store.spendSecondFactorChallenge(adminId: admin, challengeHash: "first") == false, "replaced")
        #expect(try await store.spendSecondFactorChallenge(adminId: admin, challengeHash: "second"))
        #expect(try await store.spendSecondFactorChallenge(adminId: admin, challengeHash: "second") == false, "spent")
    }
}
