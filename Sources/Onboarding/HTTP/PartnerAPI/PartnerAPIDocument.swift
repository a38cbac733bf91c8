import Foundation

/// The partner API's OpenAPI document (`openapi.json` beside this file), the contract the server code is generated
/// from, read from the target's resources to be served as written.
enum PartnerAPIDocument {
    static func load() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
