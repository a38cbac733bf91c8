import Foundation
import Hummingbird
import HummingbirdTesting
import OnboardCrypto
import SquareEmulator
import SquareOAuth
import Synchronization
import Testing

@Suite("SquareOAuthClient under failure: classification, no retries, no secrets")
struct ClientFailureTests {
    typealias H = EmulatorHarness

    @Test(arguments: [500, 503])
    func serverErrorsAreTransient(status: Int) async throws {
        try await H.run { h in
            let code = try await h.authorizationCode()
            h.emulator.inject(.status(status, path: "/oauth2/token"))
            let request = ObtainTokenRequest.authorizationCode(
                clientId: H.clientId,
                code: code,
                clientSecret: Secret(H.clientSecret)
            )
            let error = await expectSquareError { try await h.square.obtainToken(request) }
            #expect(error?.kind == .transient)
            #expect(error?.isRetryable == true)
            #expect(error?.statusCode == status)
            #expect(h.emulator.callCount(path: "/oauth2/token") == 1, "the client never retries by itself")
            // The fault was used up and the code was not consumed: the caller's own retry succeeds.
            _ = try await h.square.obtainToken(request)
        }
    }

    @Test func rateLimitingIsReportedWithRetryAfter() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            h.emulator.inject(.status(429, path: "/oauth2/token/status"))
            let error = await expectSquareError {
                try await h.square.retrieveTokenStatus(accessToken: try #require(token.accessToken))
            }
            #expect(error?.kind == .rateLimited)
            #expect(error?.retryAfterSeconds == 1)
            #expect(error?.code == "RATE_LIMITED")
        }
    }

    @Test func garbageBodyIsAMalformedResponse() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            h.emulator.inject(.malformedBody(path: "/oauth2/token"))
            let error = await expectSquareError {
                try await h.square.obtainToken(
                    .refresh(
                        clientId: H.clientId,
                        refreshToken: try #require(token.refreshToken),
                        clientSecret: Secret(H.clientSecret)
                    )
                )
            }
            #expect(error?.kind == .malformedResponse)
        }
    }

    @Test func droppedConnectionIsTransient() async throws {
        try await H.run { h in
            let token = try await h.connectWithSecret()
            h.emulator.inject(.closeConnection(path: "/oauth2/token/status"))
            let error = await expectSquareError {
                try await h.square.retrieveTokenStatus(accessToken: try #require(token.accessToken))
            }
            #expect(error?.kind == .transient)
            #expect(error?.mayHaveBeenProcessed == true)
        }
    }

    @Test func slowAnswerTimesOut() async throws {
        try await H.run { h in
            // Only the call under test gets the short timeout: a loaded machine may be slow to connect, too.
            let token = try await h.connectWithSecret()
            let impatient = h.client(timeout: .milliseconds(300))
            h.emulator.inject(.latency(milliseconds: 6000, path: "/oauth2/token/status"))
            let started = ContinuousClock.now
            let error = await expectSquareError {
                try await impatient.retrieveTokenStatus(accessToken: try #require(token.accessToken))
            }
            #expect(error?.kind == .transient)
            #expect(error?.transportFailure == "timed out")
            #expect(ContinuousClock.now - started < .seconds(5), "the call ended before Square's answer")
        }
    }

    @Test func oversizedAnswerIsRefused() async throws {
        try await H.run(maxResponseBytes: 64) { h in
            let code = try await h.authorizationCode()
            let error = await expectSquareError {
                try await h.square.obtainToken(
                    .authorizationCode(
                        clientId: H.clientId,
                        code: code,
                        clientSecret: Secret(H.clientSecret)
                    )
                )
            }
            #expect(error?.kind == .malformedResponse)
        }
    }

    /// The head comes at once, then the body stalls: the timeout covers the whole answer, not only its head.
    @Test func aBodyThatStallsTimesOut() async throws {
        // The body stalls until the test has its answer (or a minute passes), so a slow machine cannot make the
        // call look bounded when it was not, nor fail a bound it met.
        let bodyReleased = Mutex(false)
        let router = Router()
        router.post("/oauth2/token/status") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/json", .contentLength: "200"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: #"{"scopes":["#))
                    let deadline = ContinuousClock.now + .seconds(60)
                    while !bodyReleased.withLock({ $0 }), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    try await writer.finish(nil)
                }
            )
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let square = SquareOAuthClient(
                configuration: .init(environment: .custom(URL(string: "http://127.0.0.1:\(client.port!)")!), timeout: .milliseconds(500)),
                logger: .init(label: "test")
            )
            let error = await expectSquareError { try await square.retrieveTokenStatus(accessToken: "EAAA-stalled") }
            let stillStalled = bodyReleased.withLock { released in
                defer { released = true }
                return !released
            }
            #expect(error?.kind == .transient)
            #expect(error?.transportFailure == "timed out")
            #expect(stillStalled, "the call ended while the body still stalled")
        }
    }

    @Test func unreachableSquareIsTransientAndNotProcessed() async throws {
        let square = SquareOAuthClient(
            // Room for the refused connect to be reported before the deadline on a loaded machine (a deadline reached
            // first is reported as "may have been processed", rightly, since nothing then says no bytes were sent).
            configuration: .init(environment: .custom(URL(string: "http://127.0.0.1:1")!), timeout: .seconds(5)),
            logger: .init(label: "test")
        )
        let error = await expectSquareError { try await square.retrieveTokenStatus(accessToken: "EAAA-unused") }
        #expect(error?.kind == .transient)
        #expect(error?.mayHaveBeenProcessed == false)
    }

    /// Square consumed the single-use PKCE refresh token, then failed: a blind retry would send a dead token.
    @Test func failureAfterSquareConsumedTheRefreshTokenIsVisible() async throws {
        try await H.run { h in
            let token = try await h.connectWithPKCE()
            let refreshToken = try #require(token.refreshToken)
            h.emulator.inject(.status(500, path: "/oauth2/token", afterProcessing: true))
            let first = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: refreshToken))
            }
            #expect(first?.kind == .transient)
            #expect(first?.mayHaveBeenProcessed == true)
            let retry = await expectSquareError {
                try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: refreshToken))
            }
            #expect(retry?.kind == .invalidGrant)
        }
    }

    @Test func faultsCanBeInstalledOverHTTP() async throws {
        try await H.run { h in
            let installed = try await h.post("/_emulator/faults", json: #"{"kind":"status","status":503,"path":"/oauth2/token","count":2}"#)
            #expect(installed.status == 201)
            let code = try await h.authorizationCode()
            let request = ObtainTokenRequest.authorizationCode(clientId: H.clientId, code: code, clientSecret: Secret(H.clientSecret))
            #expect(await expectSquareError { try await h.square.obtainToken(request) }?.statusCode == 503)
            #expect(await expectSquareError { try await h.square.obtainToken(request) }?.statusCode == 503)
            _ = try await h.square.obtainToken(request)

            #expect(try await h.post("/_emulator/faults", json: #"{"kind":"status","status":200}"#).status == 400)
            #expect(try await h.post("/_emulator/faults", json: #"{"kind":"latency"}"#).status == 400)
            _ = try await h.post("/_emulator/faults", json: #"{"kind":"close_connection"}"#)
            let cleared = try await h.browser.execute(uri: "/_emulator/faults", method: .delete)
            #expect(cleared.status == .ok)
            #expect(String(buffer: cleared.body).contains(#""faults":[]"#))
        }
    }

    @Test func clockCanBeMovedOverHTTP() async throws {
        try await H.run { h in
            let code = try await h.authorizationCode()
            #expect(try await h.post("/_emulator/clock", json: #"{"advance_seconds":400}"#).status == 200)
            #expect(try await h.post("/_emulator/clock", json: #"{"advance_seconds":-5}"#).status == 400)
            let error = await expectSquareError {
                try await h.square.obtainToken(
                    .authorizationCode(
                        clientId: H.clientId,
                        code: code,
                        clientSecret: Secret(H.clientSecret)
                    )
                )
            }
            #expect(error?.errors.first?.detail == "Authorization code is expired")
        }
    }

    /// No access token, refresh token, code, verifier or client secret in any log line or error text.
    @Test func secretsNeverReachLogsOrErrorDescriptions() async throws {
        try await H.run { h in
            var secrets: [String] = [H.clientSecret]
            var descriptions: [String] = []
            let verifier = CodeVerifier()
            let code = try await h.authorizationCode(codeChallenge: verifier.codeChallenge)
            secrets += [code.value, verifier.value]
            let token = try await h.square.obtainToken(
                .authorizationCode(
                    clientId: H.clientId,
                    code: code,
                    codeVerifier: Secret(verifier.value)
                )
            )
            let accessToken = try #require(token.accessToken)
            let refreshToken = try #require(token.refreshToken)
            secrets += [accessToken.value, refreshToken.value]
            descriptions += ["\(token)", String(reflecting: token), "\(accessToken)"]
            var dumped = ""
            dump(token, to: &dumped)
            descriptions.append(dumped)

            // Every failure path, each with secrets in the request.
            let failing: [() async throws -> Any] = [
                { try await h.square.obtainToken(.authorizationCode(clientId: H.clientId, code: code, codeVerifier: Secret(verifier.value))) },
                { try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: refreshToken, clientSecret: "wrong")) },
                { try await h.square.revokeToken(RevokeTokenRequest(clientId: H.clientId, accessToken: accessToken), clientSecret: "bad") },
                { try await h.square.renewToken(clientId: H.clientId, RenewTokenRequest(accessToken: accessToken), clientSecret: "bad") },
            ]
            for call in failing {
                if let error = await expectSquareError(call) { descriptions += ["\(error)", String(reflecting: error)] }
            }
            for fault in [EmulatorFault.status(503), .malformedBody(), .closeConnection(), .status(429)] {
                h.emulator.inject(fault)
                if let error = await expectSquareError({
                    try await h.square.obtainToken(.refresh(clientId: H.clientId, refreshToken: refreshToken))
                }) {
                    descriptions += ["\(error)", String(reflecting: error)]
                }
            }
            _ = try await h.square.revokeToken(
                RevokeTokenRequest(clientId: H.clientId, accessToken: accessToken),
                clientSecret: Secret(H.clientSecret)
            )

            let lines = h.logs.all
            #expect(lines.count >= 8, "the client logs its calls")
            for secret in secrets {
                for line in lines + descriptions {
                    #expect(!line.contains(secret), "a secret leaked into: \(line)")
                }
            }
        }
    }
}
