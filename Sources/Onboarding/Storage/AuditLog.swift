import Foundation

/// The audit log every change writes to, and the store's own health (row counts, whether it still takes writes).
protocol AuditLog: Sendable {
    /// Appends one audit event.
    func appendAudit(_ event: AuditEventRecord) async throws(StorageError)

    /// Audit events in the order they happened, optionally for one merchant.
    func auditEvents(merchantId: String?) async throws(StorageError) -> [AuditEventRecord]

    /// How many rows the main tables hold.
    func counts() async throws(StorageError) -> StoreCounts

    /// Proves the store takes writes: takes the write lock in a transaction that changes nothing (readiness).
    func checkWritable() async throws(StorageError)
}

/// Row counts, for tests and health.
struct StoreCounts: Sendable, Equatable {
    var authorizations: Int
    var connections: Int
}

extension AuditLog {
    func auditEvents() async throws(StorageError) -> [AuditEventRecord] { try await auditEvents(merchantId: nil) }
}
