import Foundation
import NIOPosix

/// The partner API's OpenAPI document (`openapi.json` beside this file), the contract the server code is generated
/// from, read once from the target's resources to be served as written.
enum PartnerAPIDocument {
    /// The document, read on first use; `buildApplication` reads it first, on NIO's thread pool.
    static let contents: Result<Data, any Error> = Result {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }

    static func load() throws -> Data { try contents.get() }

    /// The document's limits on parameters and bodies, read once from it.
    static let contract: Result<PartnerAPIContract, any Error> = Result {
        try PartnerAPIContract(document: try load(), prefix: PartnerAPIRealm.prefix)
    }

    /// Reads the document and its limits off the async executors; a packaging mistake (no document, or one whose
    /// limits cannot be read) stops the start.
    static func loadAtStart() async throws {
        _ = try await NIOThreadPool.singleton.runIfActive { try contract.get() }
    }
}
