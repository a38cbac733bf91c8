import Foundation
import SquareEmulator
import SquareOAuth
import Testing

@Suite("The emulator accepts tokens a seeding tool registered through POST /_emulator/merchants")
struct EmulatorImportTests {
    typealias H = EmulatorHarness

    static let pkceMerchant = """
        {"merchant_id": "MLSEED000001", "access_token": "EAAAseededAccess1", "refresh_token": "EQAAseededRefresh1",
         "expires_at": "2099-01-01T00:00:00Z", "refresh_token_expires_at": "2099-03-01T00:00:00Z",
         "scopes": ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"], "flow": "pkce"}
        """
    static let codeMerchant = """
        {"merchant_id": "MLSEED000002", "access_token": "EAAAseededAccess2", "refresh_token": "EQAAseededRefresh2",
         "expires_at": "2099-01-01T00:00:00Z", "scopes": ["PAYMENTS_READ"], "flow": "code"}
        """

    @Test func seededRefreshTokensRefreshAndUnknownOnesStillFail() async throws {
        try await H.run { h in
            let imported = try await h.post("/_emulator/merchants", json: #"{"merchants": [\#(Self.pkceMerchant), \#(Self.codeMerchant)]}"#)
            #expect(imported.status == 201)
            #expect(imported.body == #"{"imported":2}"#)

            let pkce = try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: Secret("EQAAseededRefresh1")))
            #expect(pkce.merchantId == "MLSEED000001")
            #expect(pkce.refreshToken != Secret("EQAAseededRefresh1"))
            let code = try await h.square.obtainToken(
                .refresh(clientId: H.clientId, refreshToken: Secret("EQAAseededRefresh2"), clientSecret: Secret(H.clientSecret))
            )
            #expect(code.merchantId == "MLSEED000002")
            #expect(code.refreshToken == Secret("EQAAseededRefresh2"))

            let unknown = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: Secret("EQAAneverSeeded")))
            }
            #expect(unknown?.kind == .invalidGrant)
            let spent = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: Secret("EQAAseededRefresh1")))
            }
            #expect(spent?.kind == .invalidGrant)
        }
    }

    @Test func seededAccessTokensAnswerStatusAndCanBeRevoked() async throws {
        try await H.run { h in
            _ = try await h.post("/_emulator/merchants", json: #"{"merchants": [\#(Self.codeMerchant)]}"#)
            let status = try await h.square.retrieveTokenStatus(accessToken: Secret("EAAAseededAccess2"))
            #expect(status.merchantId == "MLSEED000002")
            #expect(status.scopes == ["PAYMENTS_READ"])
            #expect(status.expiresAt == "2099-01-01T00:00:00Z")
            #expect(h.emulator.isAuthorized(merchantId: "MLSEED000002"))

            _ = try await h.square.revokeToken(
                RevokeTokenRequest(clientId: H.clientId, merchantId: "MLSEED000002"),
                clientSecret: Secret(H.clientSecret)
            )
            #expect(!h.emulator.isAuthorized(merchantId: "MLSEED000002"))
            let revoked = await expectSquareError { try await h.square.retrieveTokenStatus(accessToken: Secret("EAAAseededAccess2")) }
            #expect(revoked?.errors.first?.code == "ACCESS_TOKEN_REVOKED")
        }
    }

    @Test func aBadEntryRegistersNothing() async throws {
        try await H.run { h in
            let bad = """
                {"merchant_id": "MLSEED000003", "access_token": "EAAAx3", "refresh_token": "EQAAx3", "expires_at": "soon",
                 "scopes": [], "flow": "pkce"}
                """
            let answer = try await h.post("/_emulator/merchants", json: #"{"merchants": [\#(Self.pkceMerchant), \#(bad)]}"#)
            #expect(answer.status == 400)
            #expect(answer.body.contains("merchants[1].expires_at"))
            let error = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: Secret("EQAAseededRefresh1")))
            }
            #expect(error?.kind == .invalidGrant)
            #expect(!h.emulator.isAuthorized(merchantId: "MLSEED000001"))
        }
    }
}
