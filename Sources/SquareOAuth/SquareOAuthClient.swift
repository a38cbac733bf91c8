import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// Square's OAuth API over AsyncHTTPClient, with methods named after Square's SDKs.
///
/// Never retries by itself: a refresh in the PKCE flow consumes a single-use token, so the caller decides.
public struct SquareOAuthClient: Sendable {
    /// Where and how to call Square.
    public struct Configuration: Sendable {
        public var environment: SquareEnvironment
        /// Sent as `Square-Version`; nil sends none and uses the application's default version.
        public var squareVersion: String?
        /// Whole-call deadline: connect, send, and read the full answer.
        public var timeout: Duration
        /// Answers larger than this are refused as `malformedResponse`.
        public var maxResponseBytes: Int

        public init(
            environment: SquareEnvironment,
            squareVersion: String? = "2025-10-16",
            timeout: Duration = .seconds(15),
            maxResponseBytes: Int = 64 * 1024
        ) {
            self.environment = environment
            self.squareVersion = squareVersion
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let configuration: Configuration
    let httpClient: HTTPClient
    let logger: Logger

    public init(configuration: Configuration, httpClient: HTTPClient = SquareOAuthClient.sharedHTTPClient, logger: Logger) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
    }

    /// How many connections to one Square host the shared client keeps open: a callback burst should not queue
    /// behind AsyncHTTPClient's default of 8.
    public static let connectionsPerHost = 64

    /// The process-wide client Square calls use by default: `HTTPClient.shared`'s settings and timeouts, a larger pool.
    ///
    /// Like `HTTPClient.shared` it lives as long as the process and is never shut down.
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool = .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    // Encoding and decoding keep no state between calls: one of each serves every request.
    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()

    /// ObtainToken: exchange a code, a refresh token or a migration token for an access token.
    public func obtainToken(_ request: ObtainTokenRequest) async throws(SquareError) -> ObtainTokenResponse {
        let response: ObtainTokenResponse = try await send(
            operation: "obtainToken",
            path: "/oauth2/token",
            body: request,
            authorization: nil,
            logMetadata: ["grant_type": .string(request.grantType)]
        )
        guard response.accessToken?.value.isEmpty == false, response.merchantId?.isEmpty == false else {
            throw SquareError(
                kind: .malformedResponse,
                operation: "obtainToken",
                statusCode: 200,
                transportFailure: "the answer carries no access_token or merchant_id"
            )
        }
        return response
    }

    /// RevokeToken: revoke every token of a merchant for this application (`Authorization: Client SECRET`).
    public func revokeToken(
        _ request: RevokeTokenRequest,
        clientSecret: Secret
    ) async throws(SquareError) -> RevokeTokenResponse {
        let response: RevokeTokenResponse = try await send(
            operation: "revokeToken",
            path: "/oauth2/revoke",
            body: request,
            authorization: "Client \(clientSecret.value)",
            logMetadata: [:]
        )
        guard response.success == true else {
            throw SquareError(
                kind: .malformedResponse,
                operation: "revokeToken",
                statusCode: 200,
                errors: response.errors ?? [],
                transportFailure: "the answer does not say success"
            )
        }
        return response
    }

    /// RetrieveTokenStatus: scopes, expiry and merchant of an access token (`Authorization: Bearer TOKEN`).
    public func retrieveTokenStatus(accessToken: Secret) async throws(SquareError) -> RetrieveTokenStatusResponse {
        try await send(
            operation: "retrieveTokenStatus",
            path: "/oauth2/token/status",
            body: EmptyBody(),
            authorization: "Bearer \(accessToken.value)",
            logMetadata: [:]
        )
    }

    /// RenewToken (deprecated by Square; kept for completeness): renew an access token with the client secret.
    public func renewToken(
        clientId: String,
        _ request: RenewTokenRequest,
        clientSecret: Secret
    ) async throws(SquareError) -> RenewTokenResponse {
        let encodedClientId = AuthorizeURL.percentEncode(clientId)
        return try await send(
            operation: "renewToken",
            path: "/oauth2/clients/\(encodedClientId)/access-token/renew",
            body: request,
            authorization: "Client \(clientSecret.value)",
            logMetadata: [:]
        )
    }

    struct EmptyBody: Encodable {}

    /// One call, measured: `square_requests_seconds{operation,outcome}` (outcome `success` or the error kind).
    private func send<Body: Encodable, Answer: Decodable>(
        operation: String,
        path: String,
        body: Body,
        authorization: String?,
        logMetadata: Logger.Metadata
    ) async throws(SquareError) -> Answer {
        let started = ContinuousClock.now
        func record(_ outcome: String) {
            Timer(label: "square_requests_seconds", dimensions: [("operation", operation), ("outcome", outcome)])
                .record(duration: ContinuousClock.now - started)
        }
        do {
            let answer: Answer = try await exchange(
                operation: operation,
                path: path,
                body: body,
                authorization: authorization,
                logMetadata: logMetadata
            )
            record("success")
            return answer
        } catch {
            record(error.kind.rawValue)
            throw error
        }
    }

    private func exchange<Body: Encodable, Answer: Decodable>(
        operation: String,
        path: String,
        body: Body,
        authorization: String?,
        logMetadata: Logger.Metadata
    ) async throws(SquareError) -> Answer {
        let base = configuration.environment.baseURL.absoluteString.trimmingSuffix("/")
        var requestHeaders = HTTPHeaders()
        requestHeaders.add(name: "Content-Type", value: "application/json")
        requestHeaders.add(name: "Accept", value: "application/json")
        requestHeaders.add(name: "User-Agent", value: "square-onboard/1.0")
        if let version = configuration.squareVersion { requestHeaders.add(name: "Square-Version", value: version) }
        if let authorization { requestHeaders.add(name: "Authorization", value: authorization) }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: base + path,
                method: .POST,
                headers: requestHeaders,
                body: .byteBuffer(ByteBuffer(data: try Self.encoder.encode(body)))
            )
        } catch {
            throw SquareError(
                kind: .invalidRequest,
                operation: operation,
                transportFailure: "could not encode the request",
                mayHaveBeenProcessed: false
            )
        }

        let started = ContinuousClock.now
        var metadata = logMetadata
        metadata["operation"] = .string(operation)
        let (status, headers, bytes) = try await execute(request, operation: operation, metadata: metadata)
        metadata["status"] = .stringConvertible(status)
        metadata["duration_ms"] = .stringConvertible(Int((ContinuousClock.now - started) / .milliseconds(1)))

        guard (200..<300).contains(status) else {
            let envelope = try? Self.decoder.decode(SquareErrorEnvelope.self, from: bytes)
            let legacy = envelope == nil ? try? Self.decoder.decode(SquareLegacyError.self, from: bytes) : nil
            let error = SquareError(
                kind: SquareError.classify(
                    operation: operation,
                    status: status,
                    errors: envelope?.errors ?? [],
                    legacy: legacy
                ),
                operation: operation,
                statusCode: status,
                errors: envelope?.errors ?? [],
                legacy: legacy,
                retryAfterSeconds: headers.first(name: "Retry-After").flatMap { Int($0) }
            )
            metadata["error_kind"] = .string(error.kind.rawValue)
            if let code = error.code { metadata["error_code"] = .string(code) }
            logger.info("Square call failed", metadata: metadata)
            throw error
        }
        do {
            let answer = try Self.decoder.decode(Answer.self, from: bytes)
            logger.debug("Square call succeeded", metadata: metadata)
            return answer
        } catch {
            logger.warning("Square answered with an unreadable body", metadata: metadata)
            throw SquareError(
                kind: .malformedResponse,
                operation: operation,
                statusCode: status,
                transportFailure: "the answer is not the expected JSON"
            )
        }
    }

    /// Sends the request and collects the answer, all of it within the timeout: on this API AsyncHTTPClient's deadline
    /// covers the body too (one event-loop timer per call), and the accumulator stops at `maxResponseBytes`.
    private func execute(
        _ request: HTTPClient.Request,
        operation: String,
        metadata: Logger.Metadata
    ) async throws(SquareError) -> (status: Int, headers: HTTPHeaders, body: Data) {
        let accumulator = ResponseAccumulator(request: request, maxBodySize: configuration.maxResponseBytes)
        let deadline = NIODeadline.now() + TimeAmount(configuration.timeout)
        let client = httpClient
        do {
            let task = client.execute(request: request, delegate: accumulator, deadline: deadline)
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            return (Int(response.status.code), response.headers, response.body.map { Data(buffer: $0) } ?? Data())
        } catch {
            let failure = Self.describeTransportFailure(error)
            logger.trace("transport error", metadata: ["type": .string("\(type(of: error)) \(error)")])
            var metadata = metadata
            metadata["failure"] = .string(failure.text)
            logger.info("Square call did not complete", metadata: metadata)
            throw SquareError(
                kind: failure.kind,
                operation: operation,
                transportFailure: failure.text,
                mayHaveBeenProcessed: failure.mayHaveBeenProcessed
            )
        }
    }

    /// Maps a transport error to a secret-free description; AsyncHTTPClient errors never carry bodies.
    static func describeTransportFailure(_ error: any Error) -> (kind: SquareError.Kind, text: String, mayHaveBeenProcessed: Bool) {
        if error is NIOTooManyBytesError || error is ResponseAccumulator.ResponseTooBigError {
            return (.malformedResponse, "the answer exceeded the response size limit", true)
        }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout: return (.transient, "connect timeout", false)
            case .deadlineExceeded, .readTimeout, .writeTimeout: return (.transient, "timed out", true)
            case .remoteConnectionClosed: return (.transient, "connection closed by Square", true)
            case .cancelled: return (.transient, "cancelled", true)
            default: return (.transient, "HTTP client error", true)
            }
        }
        if error is NIOConnectionError {
            return (.transient, "could not connect", false)
        }
        if error is ChannelError {
            return (.transient, "connection failed", true)
        }
        if let ioError = error as? IOError {
            return (.transient, "I/O error \(ioError.errnoCode)", ioError.errnoCode != ECONNREFUSED)
        }
        return (.transient, "transport error (\(type(of: error)))", true)
    }
}
