import Foundation
import OnboardCrypto
import SquareOAuth
import Testing

@testable import Onboarding

/// The storage contract: importing connections made outside the OAuth flow (the seeding tool's write).
extension StoreContractTests {
    static func imported(_ merchant: String, status: ImportedConnection.Status, reference: String? = nil) -> ImportedConnection {
        ImportedConnection(
            merchantId: merchant,
            accessToken: Secret("EAAA-access-\(merchant)"),
            refreshToken: Secret("EQAA-refresh-\(merchant)"),
            expiresAt: now.addingTimeInterval(status == .expired ? -3600 : 20 * 86_400),
            refreshTokenExpiresAt: now.addingTimeInterval(80 * 86_400),
            scopes: ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"],
            flow: .pkce,
            status: status,
            partnerReference: reference,
            connectedAt: now.addingTimeInterval(-10 * 86_400),
            lastRefreshedAt: now.addingTimeInterval(-86_400),
            lastError: status == .needsReauth ? "Square refused the refresh token" : nil
        )
    }

    @Test(arguments: engines) func importedConnectionsAreStoredSealedAndAudited(engine: StoreEngine) async throws {
        let store = try engine.make()
        let vault = TokenVault(keyRing: try KeyRing(keys: [("k1", .generate())]))
        let importer = ConnectionImporter(store: store, vault: vault, environment: "sandbox")
        try await importer.importBatch([
            Self.imported("MLIMPORT1", status: .active, reference: "shop-1"),
            Self.imported("MLIMPORT2", status: .needsReauth),
            Self.imported("MLIMPORT3", status: .revoked),
            Self.imported("MLIMPORT4", status: .expired),
        ])

        let stored = try await store.allConnections()
        #expect(stored.map(\.merchantId) == ["MLIMPORT1", "MLIMPORT2", "MLIMPORT3", "MLIMPORT4"])
        #expect(stored.map(\.status) == [.active, .needsReauth, .revoked, .expired])
        let active = try #require(stored.first)
        #expect(active.partnerReference == "shop-1" && active.scopes == "MERCHANT_PROFILE_READ PAYMENTS_READ")
        let sealed = try #require(active.sealedAccessToken)
        #expect(!sealed.contains("EAAA"), "tokens are stored sealed")
        #expect(try vault.openAccessToken(sealed, environment: "sandbox", merchantId: "MLIMPORT1") == Secret("EAAA-access-MLIMPORT1"))
        let refresh = try vault.openRefreshToken(try #require(active.sealedRefreshToken), environment: "sandbox", merchantId: "MLIMPORT1")
        #expect(refresh == Secret("EQAA-refresh-MLIMPORT1"))
        #expect(stored[1].lastError == "Square refused the refresh token")
        #expect(stored[2].sealedAccessToken == nil && stored[2].sealedRefreshToken == nil && stored[2].revokedAt != nil)

        let events = try await store.auditEvents(merchantId: nil)
        #expect(events.map(\.merchantId) == ["MLIMPORT1", "MLIMPORT2", "MLIMPORT3", "MLIMPORT4"])
        #expect(events.allSatisfy { $0.action == .connectionConnected && $0.actor == .cli })
        let page = try await store.connections(matching: ConnectionQuery(environment: "sandbox", search: "shop-"))
        #expect(page.connections.map(\.merchantId) == ["MLIMPORT1"])
        let due = try await store.connectionsDueForRefresh(settings: Self.settings, now: Self.now, merchantId: nil, limit: 10)
        #expect(due.map(\.merchantId) == ["MLIMPORT4"], "only the expired one is due; needs_reauth and revoked never are")
    }

    @Test(arguments: engines) func aBatchWithAMerchantAlreadyConnectedStoresNothing(engine: StoreEngine) async throws {
        let store = try engine.make()
        try await Self.connect(store, "MLTAKEN")
        let importer = ConnectionImporter(store: store, vault: TokenVault(keyRing: try KeyRing(keys: [("k1", .generate())])), environment: "sandbox")
        await #expect(throws: StorageError.self) {
            try await importer.importBatch([Self.imported("MLNEW", status: .active), Self.imported("MLTAKEN", status: .active)])
        }
        #expect(try await store.allConnections().map(\.merchantId) == ["MLTAKEN"])
        #expect(try await store.auditEvents(merchantId: "MLNEW").isEmpty)
    }
}
