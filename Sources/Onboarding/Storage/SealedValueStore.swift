import Foundation

/// Sealed values by key id (key rotation) and connections by environment (the environment identity's re-key).
protocol SealedValueStore: Sendable {
    /// How many non-NULL values of `column` are sealed under each key id, without reading any plaintext.
    func sealedValueCounts(in column: SealedColumn) async throws(StorageError) -> [KeyIDCount]

    /// Up to `limit` values of `column` not sealed under `activeKeyID`, in primary-key order after `cursor`.
    func sealedValuesNeedingResealing(
        in column: SealedColumn,
        activeKeyID: String,
        after cursor: RowKey?,
        limit: Int
    )

        async throws(StorageError) -> [SealedValue]
    /// Writes each re-sealed value in one transaction, only where the row still holds the value that was read.
    func replaceSealedValues(
        in column: SealedColumn,
        _ resealings: [Resealing]
    ) async throws(StorageError)
        -> (resealed: Int, skipped: Int)

    /// The distinct environment names connections are stored under.
    func connectionEnvironments() async throws(StorageError) -> [String]

    /// Connections whose environment is one of `environments`, in id order.
    func connections(inEnvironments environments: [String]) async throws(StorageError) -> [ConnectionRecord]

    /// Moves connections to a new environment name with their re-sealed tokens, all or none, and audits once.
    func rekeyConnections(_ changes: [ConnectionRekey], audit: AuditEventRecord) async throws(StorageError)
}

/// A row's primary key, whatever its type.
enum RowKey: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case text(String)

    var description: String {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        }
    }
}

/// One stored sealed value, the row that holds it, and the context it was sealed with.
struct SealedValue: Sendable {
    var rowKey: RowKey
    var sealed: String
    var context: String

    /// The row's primary key as reports print it.
    var rowID: String { rowKey.description }
}

/// A value read by `sealedValuesNeedingResealing` and what should replace it.
struct Resealing: Sendable {
    var original: SealedValue
    var resealed: String
}

/// How many values of one column sit under one key id.
struct KeyIDCount: Sendable, Equatable {
    /// nil when the stored text is not a sealed box at all.
    var keyID: String?
    var count: Int
}

/// One connection moved to a new environment name, its tokens re-sealed for the new name.
struct ConnectionRekey: Sendable {
    var connectionId: Int64
    var fromEnvironment: String
    var toEnvironment: String
    var sealedAccessToken: String?
    var sealedRefreshToken: String?
}
