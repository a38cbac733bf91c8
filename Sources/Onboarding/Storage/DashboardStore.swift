import Foundation

/// The admin dashboard's reads: a page of connections, the overview's numbers, a page of the audit log (value types in `ConnectionQueries.swift`).
protocol DashboardStore: Sendable {
    /// One page of connections for the dashboard, by keyset: its cost does not grow with how far the reader paged.
    func connections(matching query: ConnectionQuery) async throws(StorageError) -> ConnectionPage

    /// Counts by status, tokens expiring before `expiringBefore`, refresh failures since `failuresSince`.
    func connectionOverview(
        environment: String,
        now: Date,
        expiringBefore: Date,
        failuresSince: Date
    ) async throws(StorageError)
        -> ConnectionOverview

    /// A page of the audit log, newest first.
    func auditEvents(matching query: AuditQuery) async throws(StorageError) -> [AuditEventRecord]
}
