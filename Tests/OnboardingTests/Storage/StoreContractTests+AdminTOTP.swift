import Foundation
import Testing

@testable import Onboarding

/// The second factor's part of the storage contract: pending, on, each step once, recovery codes once, reset.
extension StoreContractTests {
    @Test(arguments: engines) func aSecondFactorIsPendingThenOnAndAcceptsEachStepOnce(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.addAdmin(store, "amy", .owner)
        #expect(try await store.beginAdminTOTP(named: "nobody", secretSealed: "sb1.x") == false)
        #expect(try await store.beginAdminTOTP(named: "amy", secretSealed: "sb1.first"))
        #expect(try await store.beginAdminTOTP(named: "amy", secretSealed: "sb1.second"), "a pending secret is replaced")
        #expect(try await store.acceptAdminTOTPStep(named: "amy", step: 5) == false, "not on yet")
        let enable = { (sealed: String) async throws -> Bool in
            try await store.enableAdminTOTP(
                named: "amy",
                secretSealed: sealed,
                acceptedStep: 100,
                recoveryCodeHashes: ["h1", "h2"],
                now: Self.now,
                audit: Self.audit(.adminTOTPEnabled, actor: .admin("amy"))
            )
        }
        #expect(try await enable("sb1.first") == false, "only the secret still pending")
        #expect(try await enable("sb1.second"))
        #expect(try await enable("sb1.second") == false, "on already")
        #expect(try await store.beginAdminTOTP(named: "amy", secretSealed: "sb1.third") == false, "on: no new secret")
        let amy = try #require(try await store.admin(named: "amy"))
        #expect(amy.totpEnabledAt == Self.now && amy.totpLastStep == 100 && amy.recoveryCodeHashes == "h1 h2")
        #expect(amy.totpSecretSealed == "sb1.second")
        #expect(try await store.acceptAdminTOTPStep(named: "amy", step: 100) == false, "the step used to turn it on")
        #expect(try await store.acceptAdminTOTPStep(named: "amy", step: 99) == false)
        #expect(try await store.acceptAdminTOTPStep(named: "amy", step: 101))
        #expect(try await store.acceptAdminTOTPStep(named: "amy", step: 101) == false, "a replay")
        #expect(try await store.auditEvents().map(\.action) == [.adminAdded, .adminTOTPEnabled])
    }

    @Test(arguments: engines) func aRecoveryCodeIsSpentOnceAndAResetForgetsEverything(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.addAdmin(store, "amy", .owner)
        _ = try await store.beginAdminTOTP(named: "amy", secretSealed: "sb1.s")
        _ = try await store.enableAdminTOTP(
            named: "amy",
            secretSealed: "sb1.s",
            acceptedStep: 1,
            recoveryCodeHashes: ["h1", "h2"],
            now: Self.now,
            audit: Self.audit(.adminTOTPEnabled, actor: .admin("amy"))
        )
        let spend = { (hash: String) async throws -> Bool in
            try await store.spendAdminRecoveryCode(named: "amy", hash: hash, audit: Self.audit(.adminRecoveryCodeUsed, actor: .admin("amy")))
        }
        #expect(try await spend("h2"))
        #expect(try await spend("h2") == false)
        #expect(try await spend("nope") == false)
        #expect(try await store.admin(named: "amy")?.recoveryCodeHashes == "h1")
        let renew = { (name: String) async throws -> Bool in
            try await store.renewAdminRecoveryCodes(
                named: name,
                hashes: ["h3", "h4"],
                audit: Self.audit(.adminRecoveryCodesRenewed, actor: .admin(name))
            )
        }
        #expect(try await renew("amy"))
        #expect(try await store.admin(named: "amy")?.recoveryCodeHashes == "h3 h4")
        #expect(try await spend("h1") == false, "a renewal ends the old codes")
        #expect(try await spend("h3"))
        #expect(try await store.admin(named: "amy")?.recoveryCodeHashes == "h4")
        #expect(try await store.resetAdminTOTP(named: "nobody", audit: Self.audit(.adminTOTPReset, actor: .admin("bob"))) == .notFound)
        guard case .changed(let reset, _) = try await store.resetAdminTOTP(named: "amy", audit: Self.audit(.adminTOTPReset, actor: .admin("bob")))
        else {
            Issue.record("amy's second factor is reset")
            return
        }
        #expect(!reset.totpEnabled && reset.totpSecretSealed == nil && reset.recoveryCodeHashes == nil && reset.totpLastStep == nil)
        #expect(try await store.admin(named: "amy") == reset)
        #expect(try await spend("h4") == false, "no codes after a reset")
        #expect(try await renew("amy") == false, "no codes without a second factor")
        #expect(
            try await store.auditEvents().map(\.action) == [
                .adminAdded, .adminTOTPEnabled, .adminRecoveryCodeUsed, .adminRecoveryCodesRenewed, .adminRecoveryCodeUsed, .adminTOTPReset,
            ]
        )
    }
}
