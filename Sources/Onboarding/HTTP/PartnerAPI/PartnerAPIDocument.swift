import Foundation
import NIOPosix

/// The partner API's OpenAPI document (`openapi.json` beside this file), the contract the server code is generated
/// from: read once at start by `buildApplication`, served as written, and its limits checked on every request.
struct PartnerAPIDocument: Sendable {
    /// The document's bytes, as served at `/api/v1/openapi.json`.
    let bytes: Data
    /// The document's limits on parameters and bodies.
    let contract: PartnerAPIContract

    /// Reads the document and its limits off the async executors; a packaging mistake (no document, or one whose
    /// limits cannot be read) stops the start.
    static func load() async throws -> PartnerAPIDocument {
        try await NIOThreadPool.singleton.runIfActive { try read() }
    }

    /// Reads the document from the target's resources, blocking: `load` runs it on the thread pool.
    static func read() throws -> PartnerAPIDocument {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else { throw CocoaError(.fileNoSuchFile) }
        let bytes = try Data(contentsOf: url)
        return PartnerAPIDocument(bytes: bytes, contract: try PartnerAPIContract(document: bytes, prefix: PartnerAPIRealm.prefix))
    }
}
