import Foundation

/// The merchant's OAuth attempts: begun, their state checked once, closed when they made no connection.
protocol AuthorizationStore: Sendable {
    /// Records a new authorization attempt and its audit event.
    func beginAuthorization(_ authorization: AuthorizationRecord, audit: AuditEventRecord) async throws(StorageError)

    /// Checks a callback's state and, when it is good, marks it consumed in the same transaction.
    func consumeAuthorization(stateHash: String, browserBindingHash: String?, now: Date) async throws(StorageError) -> StateCheck

    /// Records how a consumed authorization ended when it produced no connection, with its audit event; the
    /// partner's link it started from, if any and still unfinished, ends with `link`'s result at the audit's time.
    func closeAuthorization(
        stateHash: String,
        outcome: AuthorizationOutcome,
        link: LinkCompletion?,
        audit: AuditEventRecord
    ) async throws(StorageError)

    /// One authorization by its state's hash.
    func authorization(stateHash: String) async throws(StorageError) -> AuthorizationRecord?
}

/// What checking a callback's state found.
enum StateCheck: Sendable, Equatable {
    case accepted(AuthorizationRecord)
    case unknown
    case expired
    case reused
    case otherBrowser
}
