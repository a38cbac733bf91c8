import Foundation
import Hummingbird
import Logging
import NIOCore
import SquareOAuth

/// Square's OAuth endpoints and the emulator's control endpoints on a Hummingbird router.
struct EmulatorRoutes {
    let emulator: SquareEmulator
    static let maxBodyBytes = 64 * 1024
    /// A merchant import carries a few hundred bytes per merchant; a few thousand merchants fit.
    static let maxImportBodyBytes = 16 * 1024 * 1024

    func add(to router: Router<BasicRequestContext>) {
        router.add(middleware: SquareErrorMiddleware())
        router.add(middleware: FaultMiddleware(emulator: emulator))
        router.get("/oauth2/authorize", use: authorize)
        router.post("/oauth2/authorize/decision", use: decide)
        router.post("/oauth2/token", use: obtainToken)
        router.post("/oauth2/revoke", use: revokeToken)
        router.post("/oauth2/token/status", use: retrieveTokenStatus)
        router.post("/oauth2/clients/{client_id}/access-token/renew", use: renewToken)
        router.get("/_emulator/state", use: state)
        router.post("/_emulator/clock", use: moveClock)
        router.post("/_emulator/faults", use: addFault)
        router.delete("/_emulator/faults", use: clearFaults)
        router.post("/_emulator/merchants", use: importMerchants)
        router.post("/_emulator/merchants/{merchant_id}/revoke", use: revokeAsMerchant)
        router.put("/_emulator/webhooks", use: setWebhook)
        router.delete("/_emulator/webhooks", use: removeWebhook)
        router.get("/") { _, _ in
            Self.html(
                status: .ok,
                EmulatorErrorPage(
                    title: "Square Sandbox Emulator",
                    message: "Square's OAuth endpoints live under /oauth2/. Start from your application's Connect button."
                ).html
            )
        }
    }

    /// GET /oauth2/authorize — the consent page.
    @Sendable func authorize(request: Request, context: BasicRequestContext) async throws -> Response {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where query[String(key)] == nil {
            query[String(key)] = String(value)
        }
        return Self.consentResponse(emulator.withStore { store, now in store.beginConsent(query: query, now: now) })
    }

    /// POST /oauth2/authorize/decision — Allow or Deny from the consent page.
    @Sendable func decide(request: Request, context: BasicRequestContext) async throws -> Response {
        let buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        guard let form = try? URLEncodedFormDecoder().decode(ConsentDecision.self, from: String(buffer: buffer)) else {
            return Self.consentResponse(.errorPage(status: 400, title: "Incomplete form", message: "Choose Allow or Deny."))
        }
        return Self.consentResponse(emulator.withStore { store, now in store.decide(form, now: now) })
    }

    /// POST /oauth2/token — ObtainToken.
    @Sendable func obtainToken(request: Request, context: BasicRequestContext) async throws -> Response {
        let body: ObtainTokenRequest
        switch try await Self.decodeJSON(ObtainTokenRequest.self, from: request) {
        case .success(let decoded): body = decoded
        case .failure(let failure): return Self.response(failure.answer)
        }
        return Self.response(emulator.withStore { store, now in store.obtainToken(body, now: now) })
    }

    /// POST /oauth2/revoke — RevokeToken.
    @Sendable func revokeToken(request: Request, context: BasicRequestContext) async throws -> Response {
        let authorization = request.headers[.authorization]
        if let problem = emulator.withStore({ store, _ in store.checkClientAuthorization(authorization) }) {
            return Self.response(problem)
        }
        let body: RevokeTokenRequest
        switch try await Self.decodeJSON(RevokeTokenRequest.self, from: request) {
        case .success(let decoded): body = decoded
        case .failure(let failure): return Self.response(failure.answer)
        }
        let outcome = emulator.withStore { store, now in store.revoke(body, authorization: authorization, now: now) }
        if let merchant = outcome.revokedMerchant { emulator.authorizationEnded(merchantId: merchant, revoker: "APPLICATION") }
        return Self.response(outcome.answer)
    }

    /// POST /oauth2/token/status — RetrieveTokenStatus.
    @Sendable func retrieveTokenStatus(request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await request.body.collect(upTo: Self.maxBodyBytes)
        let authorization = request.headers[.authorization]
        return Self.response(emulator.withStore { store, now in store.tokenStatus(authorization: authorization, now: now) })
    }

    /// POST /oauth2/clients/{client_id}/access-token/renew — the deprecated RenewToken.
    @Sendable func renewToken(request: Request, context: BasicRequestContext) async throws -> Response {
        let clientId = context.parameters.get("client_id") ?? ""
        let authorization = request.headers[.authorization]
        if let problem = emulator.withStore({ store, _ in store.checkClientAuthorization(authorization) }) {
            return Self.response(problem)
        }
        let body: RenewTokenRequest
        switch try await Self.decodeJSON(RenewTokenRequest.self, from: request) {
        case .success(let decoded): body = decoded
        case .failure(let failure): return Self.response(failure.answer)
        }
        return Self.response(
            emulator.withStore { store, now in
                store.renew(clientId: clientId, body, authorization: authorization, now: now)
            }
        )
    }

    /// GET /_emulator/state — counts and the emulator's clock, never tokens.
    @Sendable func state(request: Request, context: BasicRequestContext) async throws -> Response {
        Self.json(status: .ok, emulator.snapshot())
    }

    /// POST /_emulator/clock `{"advance_seconds": N}` — moves the emulator's clock forward.
    @Sendable func moveClock(request: Request, context: BasicRequestContext) async throws -> Response {
        struct Move: Decodable { var advance_seconds: Double }
        switch try await Self.decodeJSON(Move.self, from: request) {
        case .success(let move) where move.advance_seconds >= 0:
            emulator.advanceClock(by: move.advance_seconds)
            return Self.json(status: .ok, emulator.snapshot())
        case .success:
            return Self.response(.invalid("INVALID_VALUE", field: "advance_seconds", "The clock only moves forward"))
        case .failure(let failure):
            return Self.response(failure.answer)
        }
    }

    /// POST /_emulator/faults — installs an `EmulatorFault`.
    @Sendable func addFault(request: Request, context: BasicRequestContext) async throws -> Response {
        switch try await Self.decodeJSON(EmulatorFault.self, from: request) {
        case .success(let fault):
            if let problem = fault.problem { return Self.response(.invalid("INVALID_VALUE", field: "kind", problem)) }
            emulator.inject(fault)
            return Self.json(status: .created, emulator.snapshot())
        case .failure(let failure):
            return Self.response(failure.answer)
        }
    }

    /// DELETE /_emulator/faults — removes every fault.
    @Sendable func clearFaults(request: Request, context: BasicRequestContext) async throws -> Response {
        emulator.clearFaults()
        return Self.json(status: .ok, emulator.snapshot())
    }

    /// POST /_emulator/merchants `{"merchants": [ImportedAuthorization…]}` — authorizations made elsewhere (a seeding
    /// tool), whose tokens RefreshToken, RetrieveTokenStatus and RevokeToken then accept; all or none.
    @Sendable func importMerchants(request: Request, context: BasicRequestContext) async throws -> Response {
        switch try await Self.decodeJSON(ImportRequest.self, from: request, upTo: Self.maxImportBodyBytes) {
        case .success(let body):
            if let problem = emulator.withStore({ store, now in store.importAuthorizations(body.merchants, now: now) }) {
                return Self.response(problem)
            }
            return Self.json(status: .created, ImportResponse(imported: body.merchants.count))
        case .failure(let failure):
            return Self.response(failure.answer)
        }
    }

    /// POST /_emulator/merchants/{merchant_id}/revoke — the seller revokes the app from their Square dashboard.
    @Sendable func revokeAsMerchant(request: Request, context: BasicRequestContext) async throws -> Response {
        let merchantId = context.parameters.get("merchant_id") ?? ""
        guard emulator.revokeAsMerchant(merchantId: merchantId) else {
            return Self.response(
                .envelope(
                    status: 404,
                    [
                        SquareAPIError(
                            category: "INVALID_REQUEST_ERROR",
                            code: "NOT_FOUND",
                            detail: "No active authorization for this merchant"
                        )
                    ]
                )
            )
        }
        return Self.json(status: .ok, RevokeTokenResponse(success: true))
    }

    /// PUT /_emulator/webhooks `{"notification_url": URL, "signature_key": KEY}` — sends `oauth.authorization.revoked` there.
    @Sendable func setWebhook(request: Request, context: BasicRequestContext) async throws -> Response {
        struct Subscribe: Decodable {
            var notification_url: String
            var signature_key: String
            var retry_backoff_ms: Int?
        }
        switch try await Self.decodeJSON(Subscribe.self, from: request) {
        case .success(let body):
            let subscription = EmulatorWebhookSubscription(
                notificationURL: body.notification_url,
                signatureKey: body.signature_key,
                retryBackoff: .milliseconds(body.retry_backoff_ms ?? 500)
            )
            guard subscription.hasValidNotificationURL else {
                return Self.response(.invalid("INVALID_VALUE", field: "notification_url", "notification_url must be an absolute http(s) URL"))
            }
            guard !body.signature_key.isEmpty else {
                return Self.response(.invalid("MISSING_REQUIRED_PARAMETER", field: "signature_key", "Missing required parameter: signature_key"))
            }
            guard (0...10_000).contains(body.retry_backoff_ms ?? 0) else {
                return Self.response(.invalid("INVALID_VALUE", field: "retry_backoff_ms", "retry_backoff_ms must be 0 to 10000"))
            }
            emulator.setWebhookSubscription(subscription)
            return Self.json(status: .ok, emulator.snapshot())
        case .failure(let failure):
            return Self.response(failure.answer)
        }
    }

    /// DELETE /_emulator/webhooks — stops sending webhooks.
    @Sendable func removeWebhook(request: Request, context: BasicRequestContext) async throws -> Response {
        emulator.setWebhookSubscription(nil)
        return Self.json(status: .ok, emulator.snapshot())
    }

    // MARK: Encoding

    static func decodeJSON<T: Decodable>(
        _ type: T.Type,
        from request: Request,
        upTo limit: Int = maxBodyBytes
    ) async throws -> Result<T, AnswerFailure> {
        let buffer = try await request.body.collect(upTo: limit)
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            return .failure(
                AnswerFailure(
                    answer: .invalid(
                        "INVALID_CONTENT_TYPE",
                        field: nil,
                        "Content-Type must be application/json"
                    )
                )
            )
        }
        do {
            return .success(try JSONDecoder().decode(T.self, from: Data(buffer: buffer)))
        } catch DecodingError.keyNotFound(let key, _) {
            return .failure(
                AnswerFailure(
                    answer: .invalid(
                        "MISSING_REQUIRED_PARAMETER",
                        field: key.stringValue,
                        "Missing required parameter: \(key.stringValue)"
                    )
                )
            )
        } catch DecodingError.typeMismatch(_, let context) {
            let field = context.codingPath.first?.stringValue
            return .failure(AnswerFailure(answer: .invalid("INVALID_VALUE", field: field, "A field has the wrong type")))
        } catch {
            return .failure(AnswerFailure(answer: .invalid("EXPECTED_JSON_BODY", field: nil, "The body must be a JSON object")))
        }
    }

    struct AnswerFailure: Error { var answer: EmulatorAnswer }

    static func response(_ answer: EmulatorAnswer) -> Response {
        switch answer {
        case .success(let body): json(status: .ok, body)
        case .envelope(let status, let errors): json(status: .init(code: status), SquareErrorEnvelope(errors: errors))
        case .legacy(let status, let error): json(status: .init(code: status), error)
        }
    }

    static func json(status: HTTPResponse.Status, _ body: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(data: data))
        )
    }

    static func html(status: HTTPResponse.Status, _ page: String) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .init("Referrer-Policy")!: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page))
        )
    }

    static func consentResponse(_ outcome: ConsentOutcome) -> Response {
        switch outcome {
        case .page(let page): html(status: .ok, page.html)
        case .errorPage(let status, let title, let message):
            html(status: .init(code: status), EmulatorErrorPage(title: title, message: message).html)
        case .redirect(let location):
            Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
        }
    }
}
