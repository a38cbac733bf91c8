import Foundation
import Testing

@testable import Onboarding

/// The admin part of the storage contract: accounts, the last owner, sessions that end by idle time and lifetime.
extension StoreContractTests {
    static func admin(_ name: String, _ role: AdminRole) -> AdminUserRecord {
        AdminUserRecord(name: name, role: role, passwordHash: "$scrypt$ln=10,r=8,p=1$salt$hash-\(name)", createdAt: now)
    }

    static func adminSession(_ hash: String, adminId: Int64, at: Date = now) -> AdminSessionRecord {
        AdminSessionRecord(
            sessionHash: hash,
            adminUserId: adminId,
            csrfToken: "csrf-\(hash)",
            createdAt: at,
            lastSeenAt: at,
            idleExpiresAt: at.addingTimeInterval(1800),
            expiresAt: at.addingTimeInterval(3600)
        )
    }

    @discardableResult
    static func addAdmin(_ store: any OnboardingStore, _ name: String, _ role: AdminRole) async throws -> AdminUserRecord {
        try #require(try await store.addAdmin(admin(name, role), audit: audit(.adminAdded, actor: .cli)))
    }

    @Test(arguments: engines) func adminNamesAreUniqueAndListedByName(engine: StoreEngine) async throws {
        let store = try engine.make()
        let zed = try await Self.addAdmin(store, "zed", .viewer)
        try await Self.addAdmin(store, "amy", .owner)
        #expect(zed.id != nil)
        #expect(try await store.addAdmin(Self.admin("zed", .owner), audit: Self.audit(.adminAdded, actor: .cli)) == nil)
        #expect(try await store.allAdmins().map(\.name) == ["amy", "zed"])
        let stored = try #require(try await store.admin(named: "zed"))
        #expect(stored.role == .viewer && stored.passwordHash == "$scrypt$ln=10,r=8,p=1$salt$hash-zed" && stored.createdAt == Self.now)
        #expect(stored.lastSignInAt == nil && !stored.totpEnabled && stored.recoveryCodeHashes == nil)
        #expect(try await store.admin(named: "nobody") == nil)
        #expect(try await store.auditEvents().map(\.action) == [.adminAdded, .adminAdded], "the refused add left no audit event")
    }

    @Test(arguments: engines) func theLastOwnerCanBeNeitherRemovedNorDemoted(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.addAdmin(store, "amy", .owner)
        try await Self.addAdmin(store, "bob", .viewer)
        #expect(try await store.removeAdmin(named: "amy", audit: Self.audit(.adminRemoved, actor: .cli)) == .lastOwner)
        #expect(try await store.changeAdminRole(named: "amy", to: .operator, audit: Self.audit(.adminRoleChanged, actor: .cli)) == .lastOwner)
        #expect(try await store.removeAdmin(named: "nobody", audit: Self.audit(.adminRemoved, actor: .cli)) == .notFound)

        guard case .changed(let bob, _) = try await store.changeAdminRole(named: "bob", to: .owner, audit: Self.audit(.adminRoleChanged, actor: .cli))
        else {
            Issue.record("a viewer can become an owner")
            return
        }
        #expect(bob.role == .owner)
        guard case .changed = try await store.removeAdmin(named: "amy", audit: Self.audit(.adminRemoved, actor: .cli)) else {
            Issue.record("with a second owner, the first can go")
            return
        }
        #expect(try await store.allAdmins().map(\.name) == ["bob"])
        #expect(try await store.auditEvents().map(\.action) == [.adminAdded, .adminAdded, .adminRoleChanged, .adminRemoved])
    }

    @Test(arguments: engines) func aSessionSlidesUntilIdleAndNeverPastItsEnd(engine: StoreEngine) async throws {
        let store = try engine.make()
        let amy = try #require(try await Self.addAdmin(store, "amy", .owner).id)
        let opened = try await store.openAdminSession(
            Self.adminSession("h1", adminId: amy),
            replacing: nil,
            audit: Self.audit(.adminSignedIn, actor: .admin("amy"))
        )
        #expect(opened)
        #expect(try await store.admin(named: "amy")?.lastSignInAt == Self.now)

        let later = Self.now.addingTimeInterval(1700)
        let seen = try #require(try await store.adminSession(hash: "h1", now: later, idleUntil: later.addingTimeInterval(1800)))
        #expect(seen.admin.name == "amy" && seen.session.csrfToken == "csrf-h1")
        #expect(seen.session.lastSeenAt == later && seen.session.idleExpiresAt == later.addingTimeInterval(1800))
        let nearEnd = Self.now.addingTimeInterval(3000)
        let capped = try #require(try await store.adminSession(hash: "h1", now: nearEnd, idleUntil: nearEnd.addingTimeInterval(1800)))
        #expect(capped.session.idleExpiresAt == Self.now.addingTimeInterval(3600), "the idle expiry never passes the end")
        #expect(try await store.adminSession(hash: "h1", now: Self.now.addingTimeInterval(3600), idleUntil: .distantFuture) == nil)
        #expect(try await store.adminSession(hash: "h1", now: Self.now, idleUntil: Self.now.addingTimeInterval(1800)) == nil, "an ended one is gone")
        #expect(try await store.adminSession(hash: "unknown", now: Self.now, idleUntil: Self.now) == nil)
    }

    @Test(arguments: engines) func anIdleSessionEnds(engine: StoreEngine) async throws {
        let store = try engine.make()
        let amy = try #require(try await Self.addAdmin(store, "amy", .owner).id)
        _ = try await store.openAdminSession(Self.adminSession("h1", adminId: amy), replacing: nil, audit: Self.audit(.adminSignedIn, actor: .cli))
        let idle = Self.now.addingTimeInterval(1800)
        #expect(try await store.adminSession(hash: "h1", now: idle, idleUntil: idle.addingTimeInterval(1800)) == nil)
    }

    @Test(arguments: engines) func signingInReplacesTheBrowsersSessionAndLeavesOthers(engine: StoreEngine) async throws {
        let store = try engine.make()
        let amy = try #require(try await Self.addAdmin(store, "amy", .owner).id)
        let bob = try #require(try await Self.addAdmin(store, "bob", .viewer).id)
        let signIn = Self.audit(.adminSignedIn, actor: .cli)
        _ = try await store.openAdminSession(Self.adminSession("old", adminId: amy), replacing: nil, audit: signIn)
        _ = try await store.openAdminSession(
            Self.adminSession("ended", adminId: bob, at: Self.now.addingTimeInterval(-7200)),
            replacing: nil,
            audit: signIn
        )
        _ = try await store.openAdminSession(Self.adminSession("other", adminId: bob), replacing: nil, audit: signIn)
        _ = try await store.openAdminSession(Self.adminSession("new", adminId: amy), replacing: "old", audit: signIn)
        #expect(try await store.adminSession(hash: "old", now: Self.now, idleUntil: Self.now.addingTimeInterval(60)) == nil)
        #expect(try await store.adminSession(hash: "new", now: Self.now, idleUntil: Self.now.addingTimeInterval(60)) != nil)
        #expect(try await store.adminSession(hash: "other", now: Self.now, idleUntil: Self.now.addingTimeInterval(60)) != nil)
        #expect(try await store.adminSession(hash: "ended", now: Self.now, idleUntil: Self.now.addingTimeInterval(60)) == nil)
        let gone = AdminSessionRecord(
            sessionHash: "x",
            adminUserId: 999,
            csrfToken: "c",
            createdAt: Self.now,
            lastSeenAt: Self.now,
            idleExpiresAt: Self.now,
            expiresAt: Self.now
        )
        #expect(try await store.openAdminSession(gone, replacing: nil, audit: signIn) == false, "no session for a removed admin")
    }

    @Test(arguments: engines) func anOwnPasswordChangeKeepsTheSessionThatMadeItAndClearsTheOneTimeMark(engine: StoreEngine) async throws {
        let store = try engine.make()
        let amy = try #require(try await Self.addAdmin(store, "amy", .operator).id)
        let signIn = Self.audit(.adminSignedIn, actor: .cli)
        for hash in ["a1", "a2"] { _ = try await store.openAdminSession(Self.adminSession(hash, adminId: amy), replacing: nil, audit: signIn) }
        let audit = Self.audit(.adminPasswordChanged, actor: .admin("amy"))
        _ = try await store.changeAdminPassword(named: "amy", passwordHash: "$scrypt$once", oneTime: true, keepingSession: nil, audit: audit)
        #expect(try await store.admin(named: "amy")?.passwordChangeRequired == true)
        for hash in ["a1", "a2"] { _ = try await store.openAdminSession(Self.adminSession(hash, adminId: amy), replacing: nil, audit: signIn) }

        let change = try await store.changeAdminPassword(
            named: "amy",
            passwordHash: "$scrypt$own",
            oneTime: false,
            keepingSession: "a1",
            audit: audit
        )

        guard case .changed(_, let ended) = change else {
            Issue.record("amy's password changes")
            return
        }
        #expect(ended == 1)
        #expect(try await store.admin(named: "amy")?.passwordChangeRequired == false)
        #expect(try await store.adminSession(hash: "a1", now: Self.now, idleUntil: Self.now.addingTimeInterval(60)) != nil)
        #expect(try await store.adminSession(hash: "a2", now: Self.now, idleUntil: Self.now) == nil)
    }

    @Test(arguments: engines) func aPasswordChangeOrRemovalEndsEverySessionOfThatAdmin(engine: StoreEngine) async throws {
        let store = try engine.make()
        let amy = try #require(try await Self.addAdmin(store, "amy", .owner).id)
        let bob = try #require(try await Self.addAdmin(store, "bob", .owner).id)
        let signIn = Self.audit(.adminSignedIn, actor: .cli)
        for hash in ["a1", "a2"] { _ = try await store.openAdminSession(Self.adminSession(hash, adminId: amy), replacing: nil, audit: signIn) }
        _ = try await store.openAdminSession(Self.adminSession("b1", adminId: bob), replacing: nil, audit: signIn)

        let change = try await store.changeAdminPassword(
            named: "amy",
            passwordHash: "$scrypt$new",
            oneTime: false,
            keepingSession: nil,
            audit: Self.audit(.adminPasswordChanged, actor: .cli)
        )
        guard case .changed(let changed, let ended) = change else {
            Issue.record("amy's password changes")
            return
        }
        #expect(changed.passwordHash == "$scrypt$new" && ended == 2)
        #expect(try await store.admin(named: "amy")?.passwordHash == "$scrypt$new")
        for hash in ["a1", "a2"] { #expect(try await store.adminSession(hash: hash, now: Self.now, idleUntil: Self.now) == nil) }
        #expect(try await store.adminSession(hash: "b1", now: Self.now, idleUntil: Self.now.addingTimeInterval(60)) != nil)
        #expect(
            try await store.changeAdminPassword(
                named: "nobody",
                passwordHash: "x",
                oneTime: false,
                keepingSession: nil,
                audit: Self.audit(.adminPasswordChanged, actor: .cli)
            )
                == .notFound
        )

        guard case .changed(_, let endedByRemoval) = try await store.removeAdmin(named: "bob", audit: Self.audit(.adminRemoved, actor: .cli)) else {
            Issue.record("bob can go: amy is an owner too")
            return
        }
        #expect(endedByRemoval == 1)
        #expect(try await store.adminSession(hash: "b1", now: Self.now, idleUntil: Self.now) == nil)
    }

    @Test(arguments: engines) func signingOutEndsTheSessionOnce(engine: StoreEngine) async throws {
        let store = try engine.make()
        let amy = try #require(try await Self.addAdmin(store, "amy", .owner).id)
        _ = try await store.openAdminSession(Self.adminSession("h1", adminId: amy), replacing: nil, audit: Self.audit(.adminSignedIn, actor: .cli))
        #expect(try await store.endAdminSession(hash: "h1", audit: Self.audit(.adminSignedOut, actor: .admin("amy"))))
        #expect(try await store.endAdminSession(hash: "h1", audit: Self.audit(.adminSignedOut, actor: .admin("amy"))) == false)
        #expect(try await store.adminSession(hash: "h1", now: Self.now, idleUntil: Self.now) == nil)
        #expect(try await store.auditEvents().filter { $0.action == .adminSignedOut }.count == 1)
    }
}
