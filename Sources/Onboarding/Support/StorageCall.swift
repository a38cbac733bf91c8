import Logging

/// Runs one storage operation for a service; a failure is logged with what was being done (and `metadata`) and thrown
/// as `unavailable`, the service's own "our database is unavailable". Every realm's services wrap store calls in it.
func storageCall<T, Failure: Error>(
    _ what: String,
    logger: Logger,
    metadata: Logger.Metadata = [:],
    unavailable: Failure,
    _ operation: () async throws -> T
) async throws(Failure) -> T {
    do {
        return try await operation()
    } catch {
        var metadata = metadata
        metadata["error"] = "\(error)"
        logger.error("Database failure while \(what)", metadata: metadata)
        throw unavailable
    }
}
