import Foundation
import NIOPosix

/// What `square-onboard keys rotate` and `keys status` do with the service's database and key ring.
package enum KeyOperations {
    /// Re-seals every value not under the active key, `batchSize` rows per transaction; throws when a value did not open.
    package static func rotate(
        configuration: AppConfiguration,
        batchSize: Int,
        output: (String) -> Void,
        progress: (OperationProgress) -> Void
    ) async throws {
        let rotation = KeyRotation(store: try await openExistingDatabase(configuration), keyRing: configuration.keyRing, batchSize: batchSize)
        let report = try await rotation.run { step in
            progress(
                OperationProgress(
                    done: step.resealed + step.skipped + step.unreadable,
                    total: step.total,
                    line: step.line,
                    isMilestone: true
                )
            )
        }
        for line in report.summary { output(line) }
        guard report.succeeded else { throw KeyRotationError.unreadableValues(report.unreadable.count) }
    }

    /// Counts the sealed values per column and key id, changing nothing.
    package static func status(configuration: AppConfiguration, output: (String) -> Void) async throws {
        let rotation = KeyRotation(store: try await openExistingDatabase(configuration), keyRing: configuration.keyRing)
        for line in try await rotation.census().lines { output(line) }
    }

    /// The service's database; a missing file means a wrong `data.directory`, not an empty database to create.
    static func openExistingDatabase(_ configuration: AppConfiguration) async throws -> AppDatabase {
        let path = configuration.databasePath
        guard FileManager.default.fileExists(atPath: path) else { throw KeyRotationError.noDatabase(path: path) }
        return try await NIOThreadPool.singleton.runIfActive { try AppDatabase.open(path: path) }
    }
}

/// Why `keys rotate` or `keys status` ends with status 1.
enum KeyRotationError: Error, CustomStringConvertible {
    case unreadableValues(Int)
    case noDatabase(path: String)

    var description: String {
        switch self {
        case .unreadableValues(let count):
            "\(count) sealed value(s) could not be opened with any configured key and were left unchanged (rows named above)"
        case .noDatabase(let path): "no database at \(path); check data.directory (--data-directory or DATA_DIRECTORY)"
        }
    }
}
