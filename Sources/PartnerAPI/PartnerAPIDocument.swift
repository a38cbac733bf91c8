package import Foundation

/// The partner API's OpenAPI document, the file the server code is generated from.
package enum PartnerAPIDocument {
    /// The document's bytes, read from the target's resources.
    package static func load() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
