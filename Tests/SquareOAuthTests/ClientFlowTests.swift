import Foundation
import OnboardCrypto
import SquareEmulator
import SquareOAuth
import Synchronization
import Testing

@Suite("SquareOAuthClient against the emulator: both flows, every endpoint")
struct ClientFlowTests {
    typealias H = EmulatorHarness

    @Test func codeFlowExchangeReturnsTokensAndStatusShowsScopes() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            #expect(token.merchantId == "MLSANDBOXCAFE")
            #expect(token.tokenType == "bearer")
            #expect(token.refreshToken != nil)
            #expect(token.refreshTokenExpiresAt == nil, "code-flow refresh tokens do not expire")
            let expiresAt = try #require(token.expiresAt.flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(expiresAt.timeIntervalSince(h.emulator.now) - 30 * 86400) < 60)

            let status = try await h.square.retrieveTokenStatus(accessToken: try #require(token.accessToken))
            #expect(status.scopes == ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"])
            #expect(status.merchantId == "MLSANDBOXCAFE")
            #expect(status.clientId == H.clientId)
        }
    }

    @Test func pkceExchangeNeedsTheMatchingVerifier() async throws {
        try await H.run { h in
            let verifier = CodeVerifier()
            let code = try await h.authorizationCode(codeChallenge: verifier.codeChallenge)
            let wrong = await expectSquareError {
                try await h.square.obtainToken(
                    .authorizationCode(
                        clientId: H.clientId,
                        code: code,
                        codeVerifier: Secret(CodeVerifier().value)
                    )
                )
            }
            #expect(wrong?.kind == .invalidGrant)
            #expect(wrong?.statusCode == 401)

            let other = try await h.authorizationCode(codeChallenge: verifier.codeChallenge)
            let token = try await h.square.obtainToken(
                .authorizationCode(
                    clientId: H.clientId,
                    code: other,
                    codeVerifier: Secret(verifier.value)
                )
            )
            let refreshExpiry = try #require(token.refreshTokenExpiresAt.flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(refreshExpiry.timeIntervalSince(h.emulator.now) - 90 * 86400) < 60)
        }
    }

    @Test func codeWithChallengeIsRejectedWithoutVerifier() async throws {
        try await H.run { h in
            let code = try await h.authorizationCode(codeChallenge: CodeVerifier().codeChallenge)
            let error = await expectSquareError {
                try await h.square.obtainToken(.authorizationCode(clientId: H.clientId, code: code))
            }
            #expect(error?.kind == .invalidRequest)
            #expect(error?.errors.first?.field == "code_verifier")
        }
    }

    @Test func authorizationCodesWorkOnce() async throws {
        try await H.run { h in
            let code = try await h.authorizationCode()
            let request = ObtainTokenRequest.authorizationCode(
                clientId: H.clientId,
                code: code,
                clientSecret: Secret(H.clientSecret)
            )
            _ = try await h.square.obtainToken(request)
            let error = await expectSquareError { try await h.square.obtainToken(request) }
            #expect(error?.kind == .invalidGrant)
            #expect(error?.errors.first?.detail == "Authorization code is already redeemed")
            #expect(error?.requiresReauthorization == true)
        }
    }

    @Test func authorizationCodesExpireAfterFiveMinutes() async throws {
        try await H.run { h in
            let code = try await h.authorizationCode()
            h.emulator.advanceClock(by: 301)
            let error = await expectSquareError {
                try await h.square.obtainToken(
                    .authorizationCode(
                        clientId: H.clientId,
                        code: code,
                        clientSecret: Secret(H.clientSecret)
                    )
                )
            }
            #expect(error?.kind == .invalidGrant)
            #expect(error?.errors.first?.detail == "Authorization code is expired")
        }
    }

    @Test func codeFlowRefreshReturnsTheSameRefreshTokenAndNeedsTheSecret() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            let refreshToken = try #require(token.refreshToken)
            let refreshed = try await h.square.obtainToken(
                .refresh(
                    clientId: H.clientId,
                    refreshToken: refreshToken,
                    clientSecret: Secret(H.clientSecret)
                )
            )
            #expect(refreshed.refreshToken == refreshToken)
            #expect(refreshed.accessToken != token.accessToken)
            let again = try await h.square.obtainToken(
                .refresh(
                    clientId: H.clientId,
                    refreshToken: refreshToken,
                    clientSecret: Secret(H.clientSecret)
                )
            )
            #expect(again.refreshToken == refreshToken)

            let withoutSecret = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: refreshToken))
            }
            #expect(withoutSecret?.kind == .unauthorized)
            #expect(withoutSecret?.legacy == SquareLegacyError(message: "Not Authorized", type: "service.not_authorized"))
        }
    }

    @Test func pkceRefreshRotatesAndTheOldRefreshTokenIsDead() async throws {
        try await H.run { h in
            let token = try await h.connectWithPKCE()
            let first = try #require(token.refreshToken)
            let refreshed = try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: first))
            let second = try #require(refreshed.refreshToken)
            #expect(second != first)
            #expect(refreshed.refreshTokenExpiresAt != nil)

            let reuse = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: first))
            }
            #expect(reuse?.kind == .invalidGrant)
            #expect(reuse?.legacy == SquareLegacyError(message: "Invalid refresh token", type: "service.not_authorized"))
            _ = try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: second))
        }
    }

    @Test func pkceRefreshTokensExpireAfterNinetyDays() async throws {
        try await H.run { h in
            let token = try await h.connectWithPKCE()
            h.emulator.advanceClock(by: 90 * 86400 + 1)
            let error = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: try #require(token.refreshToken)))
            }
            #expect(error?.kind == .invalidGrant)
        }
    }

    @Test func refreshWithFewerScopesNarrowsTheNewToken() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret(scopes: ["MERCHANT_PROFILE_READ", "PAYMENTS_READ", "ORDERS_READ"])
            let narrowed = try await h.square.obtainToken(
                .refresh(
                    clientId: H.clientId,
                    refreshToken: try #require(token.refreshToken),
                    clientSecret: Secret(H.clientSecret),
                    scopes: ["PAYMENTS_READ", "CUSTOMERS_WRITE"]
                )
            )
            let status = try await h.square.retrieveTokenStatus(accessToken: try #require(narrowed.accessToken))
            #expect(status.scopes == ["PAYMENTS_READ"])
        }
    }

    @Test func shortLivedTokensExpireAfterOneDay() async throws {
        try await H.run { h in
            let code = try await h.authorizationCode()
            let token = try await h.square.obtainToken(
                .authorizationCode(
                    clientId: H.clientId,
                    code: code,
                    clientSecret: Secret(H.clientSecret),
                    shortLived: true
                )
            )
            #expect(token.shortLived == true)
            let accessToken = try #require(token.accessToken)
            h.emulator.advanceClock(by: 86400 + 1)
            let error = await expectSquareError { try await h.square.retrieveTokenStatus(accessToken: accessToken) }
            #expect(error?.kind == .unauthorized)
            #expect(error?.code == "ACCESS_TOKEN_EXPIRED")
        }
    }

    @Test func migrationTokenIsExchangedOnce() async throws {
        try await H.run { h in
            let legacy = h.emulator.issueMigrationToken(merchantId: "MLSANDBOXBOOK", scopes: ["ITEMS_READ"])
            let request = ObtainTokenRequest(
                clientId: H.clientId,
                clientSecret: Secret(H.clientSecret),
                grantType: "migration_token",
                migrationToken: Secret(legacy)
            )
            let token = try await h.square.obtainToken(request)
            #expect(token.merchantId == "MLSANDBOXBOOK")
            let error = await expectSquareError { try await h.square.obtainToken(request) }
            #expect(error?.kind == .invalidGrant)
        }
    }

    @Test func revokeEndsEveryTokenOfTheMerchant() async throws {
        try await H.run { h in
            let token = try await h.connectWithPKCE()
            let accessToken = try #require(token.accessToken)
            let ended = Counter()
            h.emulator.onRevocation { merchant, revoker, _ in
                if merchant == "MLSANDBOXCAFE" && revoker == "APPLICATION" { ended.increment() }
            }
            let answer = try await h.square.revokeToken(
                RevokeTokenRequest(clientId: H.clientId, accessToken: accessToken),
                clientSecret: Secret(H.clientSecret)
            )
            #expect(answer.success == true)
            #expect(ended.value == 1)
            #expect(!h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))

            let status = await expectSquareError { try await h.square.retrieveTokenStatus(accessToken: accessToken) }
            #expect(status?.code == "ACCESS_TOKEN_REVOKED")
            let refresh = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: try #require(token.refreshToken)))
            }
            #expect(refresh?.kind == .invalidGrant)
            // Revoking again is idempotent, as a disconnect retried after a lost answer needs.
            _ = try await h.square.revokeToken(
                RevokeTokenRequest(clientId: H.clientId, merchantId: "MLSANDBOXCAFE"),
                clientSecret: Secret(H.clientSecret)
            )
        }
    }

    @Test func revokeOnlyAccessTokenKeepsTheRefreshToken() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            _ = try await h.square.revokeToken(
                RevokeTokenRequest(clientId: H.clientId, merchantId: "MLSANDBOXCAFE", revokeOnlyAccessToken: true),
                clientSecret: Secret(H.clientSecret)
            )
            let status = await expectSquareError {
                try await h.square.retrieveTokenStatus(accessToken: try #require(token.accessToken))
            }
            #expect(status?.code == "ACCESS_TOKEN_REVOKED")
            let refreshed = try await h.square.obtainToken(
                .refresh(
                    clientId: H.clientId,
                    refreshToken: try #require(token.refreshToken),
                    clientSecret: Secret(H.clientSecret)
                )
            )
            _ = try await h.square.retrieveTokenStatus(accessToken: try #require(refreshed.accessToken))
            #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
        }
    }

    @Test func revokeNeedsTheRightSecretAndExactlyOneTarget() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            let wrongSecret = await expectSquareError {
                try await h.square.revokeToken(
                    RevokeTokenRequest(clientId: H.clientId, merchantId: "MLSANDBOXCAFE"),
                    clientSecret: "wrong-secret"
                )
            }
            #expect(wrongSecret?.kind == .unauthorized)
            let both = await expectSquareError {
                try await h.square.revokeToken(
                    RevokeTokenRequest(clientId: H.clientId, accessToken: token.accessToken, merchantId: "MLSANDBOXCAFE"),
                    clientSecret: Secret(H.clientSecret)
                )
            }
            #expect(both?.kind == .invalidRequest)
            #expect(both?.statusCode == 400)
            let unknown = await expectSquareError {
                try await h.square.revokeToken(
                    RevokeTokenRequest(clientId: H.clientId, merchantId: "MLNOSUCHMERCH"),
                    clientSecret: Secret(H.clientSecret)
                )
            }
            #expect(unknown?.statusCode == 404)
            #expect(h.emulator.isAuthorized(merchantId: "MLSANDBOXCAFE"))
        }
    }

    @Test func bearerHeaderOnRevokeGetsSquaresBadRequest() async throws {
        try await H.run { h in
            let answer = try await h.post(
                "/oauth2/revoke",
                json: #"{"client_id":"\#(H.clientId)","merchant_id":"MLSANDBOXCAFE"}"#,
                headers: [.authorization: "Bearer \(H.clientSecret)"]
            )
            #expect(answer.status == 400)
            #expect(answer.body == #"{"message":"bad authorization header","type":"bad_request.invalid_parameter"}"#)
        }
    }

    @Test func renewTokenIssuesANewTokenAndRefusesRevokedOnes() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            let accessToken = try #require(token.accessToken)
            let renewed = try await h.square.renewToken(
                clientId: H.clientId,
                RenewTokenRequest(accessToken: accessToken),
                clientSecret: Secret(H.clientSecret)
            )
            #expect(renewed.merchantId == "MLSANDBOXCAFE")
            #expect(renewed.accessToken != accessToken)
            _ = try await h.square.retrieveTokenStatus(accessToken: try #require(renewed.accessToken))

            _ = try await h.square.revokeToken(
                RevokeTokenRequest(clientId: H.clientId, merchantId: "MLSANDBOXCAFE"),
                clientSecret: Secret(H.clientSecret)
            )
            let error = await expectSquareError {
                try await h.square.renewToken(
                    clientId: H.clientId,
                    RenewTokenRequest(accessToken: accessToken),
                    clientSecret: Secret(H.clientSecret)
                )
            }
            #expect(error?.kind == .invalidRequest)
            #expect(error?.legacy == SquareLegacyError(message: "cannot renew revoked token", type: "bad_request"))
        }
    }

    @Test func merchantRevocationOnSquaresSideEndsTheAuthorization() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            let events = Counter()
            h.emulator.onRevocation { _, revoker, _ in if revoker == "MERCHANT" { events.increment() } }
            let answer = try await h.post("/_emulator/merchants/MLSANDBOXCAFE/revoke", json: "{}")
            #expect(answer.status == 200)
            #expect(events.value == 1)
            let status = await expectSquareError {
                try await h.square.retrieveTokenStatus(accessToken: try #require(token.accessToken))
            }
            #expect(status?.code == "ACCESS_TOKEN_REVOKED")
            #expect(try await h.post("/_emulator/merchants/MLSANDBOXCAFE/revoke", json: "{}").status == 404)
        }
    }
}

/// A thread-safe counter for listener callbacks.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
