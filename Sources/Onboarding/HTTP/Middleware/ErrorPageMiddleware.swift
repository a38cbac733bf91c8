import Hummingbird
import Logging
import NIOCore

/// Turns every error into a page (or, under `/api/`, the partner API's JSON) that keeps the real status and never shows internals.
struct ErrorPageMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch  where request.uri.path.hasPrefix(PartnerAPIRealm.prefix + "/") {
            // Outside the partner realm's own groups (an unknown endpoint): still the API's JSON envelope.
            return PartnerAPIErrors.response(for: error, logger: context.logger, requestId: context.id)
        } catch let error as OnboardingError {
            return pages.error(error)
        } catch let error as HTTPError where error.status == .notFound {
            return pages.error(.notFound)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return pages.error(.requestTooLarge)
        } catch is NIOTooManyBytesError {
            return pages.error(.requestTooLarge)
        } catch let error as HTTPError where (400..<500).contains(error.status.code) {
            return pages.error(status: error.status, title: "That request could not be handled", message: "Go back and try again.")
        } catch {
            // Neither page nor log shows the error's text (it may quote a secret); the request id ties the two together.
            context.logger.error("Unhandled error", metadata: ["error_type": .string("\(type(of: error))")])
            return pages.error(
                status: .internalServerError,
                title: "Something went wrong on our side",
                message: "Nothing was lost. Please try again in a moment.",
                reference: context.id
            )
        }
    }
}
