import Foundation
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// The partner API's error answers: `{"error":{"code","message","field"?}}` with the status the spec lists.
enum PartnerAPIErrors {
    private struct Envelope: Encodable {
        struct Body: Encodable {
            var code: String
            var message: String
            var field: String?
        }

        var error: Body
    }

    /// The JSON answer for any error on an `/api/` path; internals are never shown, unexpected ones are logged by type.
    static func response(for error: any Error, logger: Logger, requestId: String) -> Response {
        switch error {
        case let error as PartnerError:
            return answer(error.status, code: error.code, message: error.description, field: error.field)
        case let error as ServerError:
            return response(for: error.underlyingError, logger: logger, requestId: requestId)
        case let error as DecodingError:
            let (field, reason) = describe(error)
            return answer(.badRequest, code: "invalid_request", message: reason, field: field)
        case let error as HTTPError where error.status == .contentTooLarge:
            return answer(.contentTooLarge, code: "payload_too_large", message: "the body is larger than 64 KiB")
        case is NIOTooManyBytesError:
            return answer(.contentTooLarge, code: "payload_too_large", message: "the body is larger than 64 KiB")
        case let error as HTTPError where error.status == .notFound:
            return answer(.notFound, code: "not_found", message: "no such endpoint; see /api/v1/openapi.json")
        case let error as HTTPError where error.status == .methodNotAllowed:
            return answer(.methodNotAllowed, code: "method_not_allowed", message: "this endpoint does not take \(error.status.code) here")
        case let error as HTTPError where (400..<500).contains(error.status.code):
            return answer(error.status, code: "invalid_request", message: "the request could not be handled")
        case let error as OnboardingError where error == .storageUnavailable:
            return answer(.serviceUnavailable, code: "storage_unavailable", message: PartnerError.storageUnavailable.description)
        default:
            if "\(type(of: error))".contains("RuntimeError") {
                // The runtime's own request errors (a missing or malformed parameter, a wrong content type).
                return answer(.badRequest, code: "invalid_request", message: runtimeMessage(error))
            }
            logger.error("Unhandled partner API error", metadata: ["error_type": .string("\(type(of: error))")])
            return answer(.internalServerError, code: "internal_error", message: "something went wrong on our side; reference \(requestId)")
        }
    }

    static func answer(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) -> Response {
        let envelope = Envelope(error: .init(code: code, message: message, field: field))
        let data = (try? encoder.encode(envelope)) ?? Data(#"{"error":{"code":"internal_error","message":""}}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The JSON field a decoding error is about (`scopes[2]`), and what was wrong, without echoing the value.
    static func describe(_ error: DecodingError) -> (field: String?, reason: String) {
        let path: [any CodingKey]
        let reason: String
        switch error {
        case .typeMismatch(let type, let context):
            path = context.codingPath
            reason = "must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            path = context.codingPath
            reason = "must be \(typeName(type)), not null"
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
            reason = "is required"
        case .dataCorrupted(let context):
            path = context.codingPath
            reason = context.codingPath.isEmpty ? "the body is not valid JSON" : "has a value that is not allowed"
        @unknown default:
            path = []
            reason = "is not valid"
        }
        let field = fieldName(path)
        return (field, field.map { "\($0) \(reason)" } ?? reason)
    }

    private static func fieldName(_ path: [any CodingKey]) -> String? {
        var name = ""
        for key in path {
            if let index = key.intValue {
                name += "[\(index)]"
            } else if !key.stringValue.isEmpty {
                name += name.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return name.isEmpty ? nil : name
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch "\(type)" {
        case "String": "a string"
        case "Int", "Int64", "Int32": "an integer"
        case "Bool": "true or false"
        case let name where name.hasPrefix("Array"): "an array"
        default: "an object of the documented shape"
        }
    }

    private static func runtimeMessage(_ error: any Error) -> String {
        let text = "\(error)"
        // The runtime names the parameter, never a value; keep its first sentence.
        return String(text.prefix(while: { $0 != "\n" }).prefix(200))
    }
}

/// Answers every partner API error as JSON, inside the realm (the global error pages never see them).
struct PartnerAPIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return PartnerAPIErrors.response(for: error, logger: context.logger, requestId: context.id)
        }
    }
}
