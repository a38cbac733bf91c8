import Foundation
import OnboardCrypto

/// Re-seals every stored secret that is not under the active key, one write transaction per batch, while the service runs.
struct KeyRotation: Sendable {
    let store: any SealedValueStore & AuditLog
    let keyRing: KeyRing
    var columns: [SealedColumn] = SealedColumn.all
    var batchSize: Int = 200
    var clock: AppClock = .system
    /// Seals a plaintext under the active key; tests replace it to prove a bad re-seal is never written.
    var seal: @Sendable (KeyRing, [UInt8], String) throws -> String = { ring, plaintext, context in
        try ring.seal(plaintext, context: context).serialized
    }

    /// Where a run stands after a batch.
    struct Progress: Sendable, Equatable {
        var column: String
        var resealed: Int
        var skipped: Int
        var unreadable: Int
        /// Values not under the active key when the run began.
        var total: Int

        /// The line printed after each batch.
        var line: String { "re-sealed \(resealed)/\(total) (skipped \(skipped), unreadable \(unreadable)) in \(column)" }
    }

    /// A value that no configured key opens: left unchanged and named by its row, never by its content.
    struct UnreadableValue: Sendable, Equatable, CustomStringConvertible {
        var column: String
        var rowID: String
        var reason: String

        var description: String { "\(column) row \(rowID): \(reason); left unchanged" }
    }

    /// What a run did to one column.
    struct ColumnResult: Sendable, Equatable {
        var column: String
        var resealed = 0
        /// Rows changed by someone else between the read and the write; the next run picks them up.
        var skipped = 0
        /// Values already under the active key when the run began.
        var alreadyCurrent = 0
        var unreadable: [UnreadableValue] = []
    }

    /// The outcome of a run: per column counts, what is left under other keys, and which keys can go.
    struct Report: Sendable {
        var activeKeyID: String
        var columns: [ColumnResult]
        /// The census taken after the last batch.
        var census: SealedValueCensus

        var unreadable: [UnreadableValue] { columns.flatMap(\.unreadable) }
        /// False when some value could not be opened; the command then exits with status 1.
        var succeeded: Bool { unreadable.isEmpty }
        /// The configured old keys, once no value remains under any key but the active one.
        var removableKeyIDs: [String] { census.notActive.isEmpty ? census.configuredKeyIDs.filter { $0 != activeKeyID } : [] }

        /// The summary printed at the end of `keys rotate`.
        var summary: [String] {
            let width = columns.map(\.column.count).max() ?? 0
            var lines = ["active key: \(activeKeyID)"]
            for result in columns {
                lines.append(
                    "  \(result.column.padding(toLength: width, withPad: " ", startingAt: 0))  re-sealed \(result.resealed), "
                        + "skipped \(result.skipped), already current \(result.alreadyCurrent), unreadable \(result.unreadable.count)"
                )
            }
            lines += unreadable.map { "unreadable: \($0)" }
            lines.append(census.remainingLine)
            if !removableKeyIDs.isEmpty {
                lines.append("you can now remove key(s) \(removableKeyIDs.joined(separator: ", ")) from onboard.encryptionKeys")
            } else if !census.notActive.isEmpty {
                lines.append("keep every configured key until nothing remains; a second run picks up rows that changed during this one")
            }
            return lines
        }
    }

    /// Re-seals every value not under the active key; `progress` hears after each committed batch.
    func run(progress: (Progress) throws -> Void = { _ in }) async throws -> Report {
        let before = try await census()
        var position = Progress(column: "", resealed: 0, skipped: 0, unreadable: 0, total: before.notActive.reduce(0) { $0 + $1.count })
        var results: [ColumnResult] = []
        for (column, counts) in zip(columns, before.columns) {
            var result = ColumnResult(column: column.name)
            result.alreadyCurrent = counts.counts.first { $0.keyID == keyRing.activeKeyID }?.count ?? 0
            var cursor: RowKey?
            while true {
                let batch = try await rotateBatch(of: column, after: cursor)
                guard let last = batch.lastRowKey else { break }
                cursor = last
                result.resealed += batch.resealed
                result.skipped += batch.skipped
                result.unreadable += batch.unreadable
                position.column = column.name
                position.resealed += batch.resealed
                position.skipped += batch.skipped
                position.unreadable += batch.unreadable.count
                try progress(position)
                if batch.read < batchSize { break }
            }
            results.append(result)
        }
        let after = try await census()
        let report = Report(activeKeyID: keyRing.activeKeyID, columns: results, census: after)
        try await store.appendAudit(
            AuditEventRecord(
                occurredAt: clock.now(),
                actor: .system,
                action: .keysRotated,
                detail: "active=\(keyRing.activeKeyID) resealed=\(position.resealed) skipped=\(position.skipped) "
                    + "unreadable=\(position.unreadable) remaining=\(after.notActive.reduce(0) { $0 + $1.count })"
            )
        )
        return report
    }

    /// What one batch did.
    struct BatchResult: Sendable {
        /// How many values the batch read; fewer than the batch size means the column is done.
        var read: Int
        var resealed: Int
        var skipped: Int
        var unreadable: [UnreadableValue]
        /// The cursor for the next batch; nil when nothing was read.
        var lastRowKey: RowKey?
    }

    /// Reads up to `batchSize` values of `column` after `cursor`, re-seals them, and writes them back in one transaction.
    func rotateBatch(of column: SealedColumn, after cursor: RowKey?) async throws -> BatchResult {
        let values = try await store.sealedValuesNeedingResealing(
            in: column,
            activeKeyID: keyRing.activeKeyID,
            after: cursor,
            limit: batchSize
        )
        var resealings: [Resealing] = []
        var unreadable: [UnreadableValue] = []
        for value in values {
            do {
                resealings.append(Resealing(original: value, resealed: try reseal(value)))
            } catch {
                unreadable.append(UnreadableValue(column: column.name, rowID: value.rowID, reason: Self.reason(error, sealed: value.sealed)))
            }
        }
        let written = try await store.replaceSealedValues(in: column, resealings)
        return BatchResult(
            read: values.count,
            resealed: written.resealed,
            skipped: written.skipped,
            unreadable: unreadable,
            lastRowKey: values.last?.rowKey
        )
    }

    /// The same bytes sealed under the active key with the same context.
    ///
    /// The new value is opened again before it is returned: one that does not give back the same bytes under the
    /// active key is never written, so a rotation cannot lose a token.
    func reseal(_ value: SealedValue) throws -> String {
        let plaintext = try keyRing.open(SealedBox(serialized: value.sealed), context: value.context)
        let resealed = try seal(keyRing, plaintext, value.context)
        let check = try? SealedBox(serialized: resealed)
        guard let check, check.keyID == keyRing.activeKeyID,
            (try? keyRing.open(check, context: value.context)) == plaintext
        else { throw KeyRotationCheckFailed() }
        return resealed
    }

    /// Counts of sealed values per column and key id, read without opening any value.
    func census() async throws -> SealedValueCensus {
        var counts: [SealedValueCensus.ColumnCounts] = []
        for column in columns {
            counts.append(SealedValueCensus.ColumnCounts(column: column.name, counts: try await store.sealedValueCounts(in: column)))
        }
        return SealedValueCensus(activeKeyID: keyRing.activeKeyID, configuredKeyIDs: keyRing.keyIDs, columns: counts)
    }

    /// Why a value did not open, in words that name no part of it but its key id.
    static func reason(_ error: any Error, sealed: String) -> String {
        if error is KeyRotationCheckFailed { return "its re-sealed value did not open under the active key" }
        return switch error as? CryptoError {
        case .unknownKeyID(let id): "key id '\(id)' is not configured"
        case .malformedSealedBox: "not a well-formed sealed value"
        case .authenticationFailed:
            "does not open with key '\((try? SealedBox(serialized: sealed))?.keyID ?? "?")' (tampered, or copied from another row)"
        default: "cannot be opened (\(error))"
        }
    }
}

/// A re-sealed value that did not open under the active key with the same bytes; the row keeps its old value.
struct KeyRotationCheckFailed: Error {}

/// How many sealed values each column holds under each key id; no value is opened or shown.
struct SealedValueCensus: Sendable {
    /// One column's counts.
    struct ColumnCounts: Sendable {
        var column: String
        var counts: [KeyIDCount]
    }

    var activeKeyID: String
    var configuredKeyIDs: [String]
    var columns: [ColumnCounts]

    /// Values under any key id but the active one (nil: not a sealed box), summed over columns.
    var notActive: [KeyIDCount] {
        var totals: [String?: Int] = [:]
        for count in columns.flatMap(\.counts) where count.keyID != activeKeyID {
            totals[count.keyID, default: 0] += count.count
        }
        return totals.map { KeyIDCount(keyID: $0.key, count: $0.value) }
            .sorted { ($0.keyID ?? "") < ($1.keyID ?? "") }
    }

    /// A key id as the output names it, marking ids the configuration cannot open.
    func label(_ keyID: String?) -> String {
        guard let keyID else { return "(not a sealed value)" }
        if keyID == activeKeyID { return "\(keyID) (active)" }
        return configuredKeyIDs.contains(keyID) ? keyID : "\(keyID) (not configured)"
    }

    /// One line saying what remains under other key ids.
    var remainingLine: String {
        let remaining = notActive
        guard !remaining.isEmpty else { return "nothing remains under an old key id" }
        return "remaining under old key ids: " + remaining.map { "\(label($0.keyID)): \($0.count)" }.joined(separator: ", ")
    }

    /// The report printed by `keys status`.
    var lines: [String] {
        let width = columns.map(\.column.count).max() ?? 0
        var lines = ["active key: \(activeKeyID); configured: \(configuredKeyIDs.joined(separator: ", "))"]
        for column in columns {
            let name = column.column.padding(toLength: width, withPad: " ", startingAt: 0)
            let counts = column.counts.map { "\(label($0.keyID)): \($0.count)" }
            lines.append("  \(name)  " + (counts.isEmpty ? "no values" : counts.joined(separator: ", ")))
        }
        lines.append(remainingLine)
        let oldKeys = configuredKeyIDs.filter { $0 != activeKeyID }
        if notActive.isEmpty && !oldKeys.isEmpty {
            lines.append("you can remove key(s) \(oldKeys.joined(separator: ", ")) from onboard.encryptionKeys")
        } else if !notActive.isEmpty {
            lines.append("run 'square-onboard keys rotate' to move them onto '\(activeKeyID)'")
        }
        return lines
    }
}
