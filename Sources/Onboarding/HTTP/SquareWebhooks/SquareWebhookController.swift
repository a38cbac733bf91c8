import Foundation
import Hummingbird
import Logging
import NIOCore
import SquareOAuth

/// Square's notifications to us: `POST /webhooks/square`, behind `SquareSignatureMiddleware`.
struct SquareWebhookController {
    let store: any ConnectionStore & AuditLog
    let environment: String
    let clock: AppClock

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/webhooks/square", use: receive)
        return routes
    }

    /// The parts of Square's event body we act on.
    struct Event: Decodable {
        struct Data: Decodable {
            struct Object: Decodable {
                struct Revocation: Decodable {
                    var revoker_type: String?
                }
                var revocation: Revocation?
            }
            var object: Object?
        }
        var event_id: String
        var type: String
        var merchant_id: String?
        var data: Data?
    }

    /// POST /webhooks/square — dedupes on `event_id` and revokes on `oauth.authorization.revoked` (the signature is checked before).
    @Sendable func receive(request: Request, context: AppRequestContext) async throws -> Response {
        // The group's `SquareSignatureMiddleware` has checked the signature and collected the bounded body.
        let bytes = Array(buffer: try await request.body.collect(upTo: SquareSignatureMiddleware<AppRequestContext>.maxBodyBytes))
        guard let event = try? JSONDecoder().decode(Event.self, from: Data(bytes)), !event.event_id.isEmpty,
            event.event_id.utf8.count <= 200
        else {
            return Self.json(.badRequest, ["error": "malformed_event", "message": "The body is not a Square event"])
        }
        let revoker = event.data?.object?.revocation?.revoker_type
        if event.type == "oauth.authorization.revoked" && (event.merchant_id == nil || revoker == nil) {
            return Self.json(.badRequest, ["error": "malformed_event", "message": "A revocation names a merchant and a revoker"])
        }
        let result: SquareEventResult
        do {
            result = try await store.applySquareEvent(
                SquareEventRecord(eventId: event.event_id, type: event.type, merchantId: event.merchant_id, receivedAt: clock.now()),
                environment: environment,
                revokedBy: revoker.map(Self.revokedBy)
            )
        } catch {
            // Square retries a 5xx: the event is not lost while our database is down.
            context.logger.error("Could not record a Square webhook event", metadata: ["error": "\(error)"])
            return Self.json(.serviceUnavailable, ["error": "storage_unavailable", "message": "Try again later"])
        }
        let outcome: String
        switch result {
        case .duplicate: outcome = "duplicate"
        case .revoked(let merchant):
            outcome = "revoked"
            context.logger.info("Square says the merchant's authorization was revoked", metadata: ["merchant_id": .string(merchant)])
        case .confirmed: outcome = "confirmed"
        case .noChange: outcome = "no_change"
        }
        return Self.json(.ok, ["result": outcome])
    }

    /// `MERCHANT` → `merchant`; Square's revoker types as our `revokedBy` values.
    static func revokedBy(_ revokerType: String) -> String {
        switch revokerType.uppercased() {
        case "MERCHANT": "merchant"
        case "APPLICATION": "application"
        case "SQUARE": "square"
        default: "square:" + revokerType.lowercased().prefix(32)
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
