import Hummingbird
import NIOCore
import SquareOAuth

/// The Square webhook group's identity check: the HMAC signature over the notification URL and the raw body.
///
/// Off (404) until `square.webhookSignatureKey` is set; a body over 64 KiB is a 413 and a missing or wrong signature
/// a 401, before any handler runs. A request let through carries its body collected, for the handler to read again.
struct SquareSignatureMiddleware<Context: RequestContext>: RouterMiddleware {
    let signatureKey: Secret?
    let notificationURL: String
    static var maxBodyBytes: Int { 64 * 1024 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let signatureKey else {
            return SquareWebhookController.json(
                .notFound,
                ["error": "webhooks_not_configured", "message": "square.webhookSignatureKey is not set"]
            )
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBodyBytes)
        } catch {
            return SquareWebhookController.json(.contentTooLarge, ["error": "body_too_large", "message": "Bodies over 64 KiB are refused"])
        }
        guard let signature = request.headers[.init(WebhookSignature.headerName)!],
            WebhookSignature.isValid(
                signature: signature,
                signatureKey: signatureKey.value,
                notificationURL: notificationURL,
                body: Array(buffer: body)
            )
        else {
            context.logger.warning("Square webhook with a missing or wrong signature refused")
            return SquareWebhookController.json(.unauthorized, ["error": "invalid_signature", "message": "The signature does not match"])
        }
        return try await next(request, context)
    }
}
