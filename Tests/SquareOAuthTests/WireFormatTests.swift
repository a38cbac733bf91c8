import Foundation
import OnboardCrypto
import Testing

@testable import SquareOAuth

@Suite("Wire models, authorize URLs and webhook signatures")
struct WireFormatTests {
    @Test func obtainTokenRequestUsesSnakeCaseAndOmitsNils() throws {
        let request = ObtainTokenRequest.authorizationCode(
            clientId: "app",
            code: "sq0cgp-code",
            codeVerifier: "verifier",
            redirectUri: "https://x/cb",
            shortLived: true
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(request), as: UTF8.self)
        #expect(
            json
                == #"{"client_id":"app","code":"sq0cgp-code","code_verifier":"verifier","grant_type":"authorization_code","redirect_uri":"https://x/cb","short_lived":true}"#
        )
    }

    @Test func obtainTokenResponseDecodesEveryField() throws {
        let json = #"""
            {"access_token":"EAAA1","token_type":"bearer","expires_at":"2026-12-01T00:00:00Z","merchant_id":"M1",
             "subscription_id":"S1","plan_id":"P1","id_token":"ID1","refresh_token":"EQAA1","short_lived":false,
             "refresh_token_expires_at":"2027-02-01T00:00:00Z"}
            """#
        let response = try JSONDecoder().decode(ObtainTokenResponse.self, from: Data(json.utf8))
        #expect(
            response
                == ObtainTokenResponse(
                    accessToken: "EAAA1",
                    tokenType: "bearer",
                    expiresAt: "2026-12-01T00:00:00Z",
                    merchantId: "M1",
                    subscriptionId: "S1",
                    planId: "P1",
                    idToken: "ID1",
                    refreshToken: "EQAA1",
                    shortLived: false,
                    refreshTokenExpiresAt: "2027-02-01T00:00:00Z"
                )
        )
        #expect(!"\(response)".contains("EAAA1"))
        #expect(!"\(response)".contains("EQAA1"))
    }

    @Test func revokeAndStatusModelsUseSquaresFieldNames() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let revoke = RevokeTokenRequest(clientId: "app", merchantId: "M1", revokeOnlyAccessToken: true)
        #expect(
            String(decoding: try encoder.encode(revoke), as: UTF8.self)
                == #"{"client_id":"app","merchant_id":"M1","revoke_only_access_token":true}"#
        )
        let status = try JSONDecoder().decode(
            RetrieveTokenStatusResponse.self,
            from: Data(#"{"scopes":["A"],"expires_at":"t","client_id":"c","merchant_id":"m"}"#.utf8)
        )
        #expect(status == RetrieveTokenStatusResponse(scopes: ["A"], expiresAt: "t", clientId: "c", merchantId: "m"))
    }

    @Test func authorizeURLCarriesEveryParameterEncoded() throws {
        let url = AuthorizeURL(
            environment: .sandbox,
            clientId: "sandbox-sq0idb-abc",
            scopes: ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"],
            state: "a+b/c=d",
            session: false,
            locale: "en-US",
            codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ).url
        #expect(
            url.absoluteString == "https://connect.squareupsandbox.com/oauth2/authorize?client_id=sandbox-sq0idb-abc"
                + "&scope=MERCHANT_PROFILE_READ+PAYMENTS_READ&state=a%2Bb%2Fc%3Dd&session=false&locale=en-US"
                + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        )
        let production = AuthorizeURL(environment: .production, clientId: "sq0idp-x", scopes: ["ITEMS_READ"], state: "s").url
        #expect(production.absoluteString == "https://connect.squareup.com/oauth2/authorize?client_id=sq0idp-x&scope=ITEMS_READ&state=s")
    }

    @Test func environmentsParseNamesAndURLs() {
        #expect(SquareEnvironment("sandbox") == .sandbox)
        #expect(SquareEnvironment("PRODUCTION") == .production)
        #expect(SquareEnvironment("http://127.0.0.1:8090") == .custom(URL(string: "http://127.0.0.1:8090")!))
        #expect(SquareEnvironment("ftp://x") == nil)
        #expect(SquareEnvironment("nonsense") == nil)
    }

    /// The two known-answer vectors from Square's SDK tests (SQUARE_OAUTH.md §7).
    @Test func webhookSignaturesMatchSquaresVectors() {
        let body =
            #"{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}"#
        let url = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
        #expect(
            WebhookSignature.signature(signatureKey: "Ibxx_5AKakO-3qeNVR61Dw", notificationURL: url, body: Array(body.utf8))
                == "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
        )
        #expect(
            WebhookSignature.isValid(
                signature: "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=",
                signatureKey: "Ibxx_5AKakO-3qeNVR61Dw",
                notificationURL: url,
                body: Array(body.utf8)
            )
        )
        let second = #"{"data":{"type":"webhooks","id":">id<"}}"#
        #expect(
            WebhookSignature.isValid(
                signature: "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
                signatureKey: "signature-key",
                notificationURL: "https://webhook.site/webhooks",
                body: Array(second.utf8)
            )
        )
    }

    @Test func webhookSignatureRejectsAnyChange() {
        let body = Array(#"{"data":{"type":"webhooks","id":">id<"}}"#.utf8)
        let good = "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="
        let url = "https://webhook.site/webhooks"
        #expect(!WebhookSignature.isValid(signature: good, signatureKey: "signature-kex", notificationURL: url, body: body))
        #expect(!WebhookSignature.isValid(signature: good, signatureKey: "signature-key", notificationURL: url + "/", body: body))
        #expect(!WebhookSignature.isValid(signature: good, signatureKey: "signature-key", notificationURL: url, body: body + [0x20]))
        #expect(!WebhookSignature.isValid(signature: "not base64!", signatureKey: "signature-key", notificationURL: url, body: body))
        #expect(!WebhookSignature.isValid(signature: "", signatureKey: "signature-key", notificationURL: url, body: body))
    }

    @Test(arguments: [
        (
            "obtainToken", 400, [SquareAPIError(category: "INVALID_REQUEST_ERROR", code: "MISSING_REQUIRED_PARAMETER")], nil as SquareLegacyError?,
            SquareError.Kind.invalidRequest
        ),
        ("obtainToken", 401, [], SquareLegacyError(message: "Invalid refresh token", type: "service.not_authorized"), .invalidGrant),
        ("obtainToken", 401, [], SquareLegacyError(message: "Not Authorized", type: "service.not_authorized"), .unauthorized),
        ("obtainToken", 400, [SquareAPIError(category: "INVALID_REQUEST_ERROR", code: "BAD_REQUEST")], nil, .invalidGrant),
        ("retrieveTokenStatus", 401, [SquareAPIError(category: "AUTHENTICATION_ERROR", code: "ACCESS_TOKEN_EXPIRED")], nil, .unauthorized),
        ("revokeToken", 400, [], SquareLegacyError(message: "bad authorization header", type: "bad_request.invalid_parameter"), .invalidRequest),
        ("revokeToken", 429, [], nil, .rateLimited),
        ("obtainToken", 502, [], nil, .transient),
        ("obtainToken", 408, [], nil, .transient),
    ])
    func errorsAreClassified(
        operation: String,
        status: Int,
        errors: [SquareAPIError],
        legacy: SquareLegacyError?,
        kind: SquareError.Kind
    ) {
        #expect(SquareError.classify(operation: operation, status: status, errors: errors, legacy: legacy) == kind)
    }
}
