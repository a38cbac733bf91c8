import Hummingbird

/// How the browser realms read a request body: as an HTML form (`application/x-www-form-urlencoded`), bounded by the
/// context's `maxUploadSize`. A body that is no form, or a field of the wrong shape (`name[]=…`), is a 400.
struct FormRequestDecoder: RequestDecoder {
    func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        do {
            return try await URLEncodedFormDecoder().decode(type, from: request, context: context)
        } catch is URLEncodedFormError {
            throw HTTPError(.badRequest, message: "The form could not be read.")
        }
    }
}
