import Foundation
import Hummingbird
import NIOCore
import SquareOAuth

/// Turns thrown errors (unknown route, body too large) into Square's error envelope.
struct SquareErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let (code, category) =
                switch error.status.code {
                case 404: ("NOT_FOUND", "INVALID_REQUEST_ERROR")
                case 405: ("METHOD_NOT_ALLOWED", "INVALID_REQUEST_ERROR")
                case 413: ("VALUE_TOO_LONG", "INVALID_REQUEST_ERROR")
                case 400..<500: ("BAD_REQUEST", "INVALID_REQUEST_ERROR")
                default: ("INTERNAL_SERVER_ERROR", "API_ERROR")
                }
            let detail = error.status.code == 404 ? "No such endpoint: \(request.method) \(request.uri.path)" : error.status.reasonPhrase
            return EmulatorRoutes.json(
                status: error.status,
                SquareErrorEnvelope(errors: [
                    SquareAPIError(category: category, code: code, detail: detail)
                ])
            )
        } catch is NIOTooManyBytesError {
            return EmulatorRoutes.json(
                status: .contentTooLarge,
                SquareErrorEnvelope(errors: [
                    SquareAPIError(category: "INVALID_REQUEST_ERROR", code: "VALUE_TOO_LONG", detail: "The request body is too large")
                ])
            )
        } catch {
            return EmulatorRoutes.json(
                status: .internalServerError,
                SquareErrorEnvelope(errors: [
                    SquareAPIError(category: "API_ERROR", code: "INTERNAL_SERVER_ERROR", detail: "The emulator failed")
                ])
            )
        }
    }
}

/// Counts calls (and how many are answered at once) and applies the injected faults that match the request path.
struct FaultMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let emulator: SquareEmulator

    struct DroppedConnection: Error {}

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        emulator.trackInFlight(path: path, delta: 1)
        defer { emulator.trackInFlight(path: path, delta: -1) }
        guard let fault = emulator.takeFault(forPath: path) else { return try await next(request, context) }
        switch fault.kind {
        case .latency where fault.afterProcessing:
            let response = try await next(request, context)
            emulator.trackHeldAnswer(path: path, delta: 1)
            defer { emulator.trackHeldAnswer(path: path, delta: -1) }
            try await Task.sleep(for: .milliseconds(fault.latencyMilliseconds ?? 0))
            return response
        case .latency:
            try await Task.sleep(for: .milliseconds(fault.latencyMilliseconds ?? 0))
            return try await next(request, context)
        case .status, .malformedBody, .closeConnection:
            if fault.afterProcessing { _ = try await next(request, context) }
            return Self.failure(for: fault)
        }
    }

    static func failure(for fault: EmulatorFault) -> Response {
        switch fault.kind {
        case .status:
            let status = fault.status ?? 500
            let (category, code) =
                switch status {
                case 429: ("RATE_LIMIT_ERROR", "RATE_LIMITED")
                case 503: ("API_ERROR", "SERVICE_UNAVAILABLE")
                case 500...: ("API_ERROR", "INTERNAL_SERVER_ERROR")
                default: ("INVALID_REQUEST_ERROR", "BAD_REQUEST")
                }
            var response = EmulatorRoutes.json(
                status: .init(code: status),
                SquareErrorEnvelope(errors: [
                    SquareAPIError(category: category, code: code, detail: "Injected by the emulator")
                ])
            )
            if status == 429 { response.headers[.retryAfter] = "1" }
            return response
        case .malformedBody:
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"access_token\": \"EAAA"))
            )
        case .closeConnection:
            // A body that fails mid-write makes the server close the connection without a complete answer.
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(contentLength: 1024) { _ in throw DroppedConnection() }
            )
        case .latency:
            return Response(status: .ok)
        }
    }
}
