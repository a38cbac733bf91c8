import GRDB
import Logging
import ServiceLifecycle

/// Checkpoints the WAL from its own connection beside the writer, so the writer never waits for a checkpoint's fsyncs.
///
/// SQLite's automatic checkpoint runs in the committing connection: every 1,000 pages the writer copies them into the
/// database and syncs twice while every write behind it waits. With this service running, `serve` sets the writer's
/// automatic checkpoint to `writerSafetyPages` (it still checkpoints if this one falls behind) and a PASSIVE
/// checkpoint runs here every `busyInterval` while the WAL grows, every `quietInterval` otherwise.
final class WALCheckpointer: Service, Sendable {
    /// The writer's own automatic checkpoint while this service runs: a safety net (about 40 MB of WAL).
    static let writerSafetyPages = 10_000
    static let busyInterval = Duration.milliseconds(50)
    static let quietInterval = Duration.milliseconds(250)

    private let connection: DatabaseQueue
    private let logger: Logger

    /// Opens the checkpointing connection; blocking, so call it off the async executors (as `AppDatabase.open` is).
    init(databasePath: String, logger: Logger) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "square-onboard.checkpointer"
        connection = try DatabaseQueue(path: databasePath, configuration: configuration)
        self.logger = logger
    }

    /// One PASSIVE checkpoint: how many WAL frames there are and how many are now in the database file.
    func checkpoint() async throws -> (walFrames: Int, checkpointed: Int) {
        let result = try await connection.writeWithoutTransaction { try $0.checkpoint(.passive) }
        return (result.walFrameCount, result.checkpointedFrameCount)
    }

    /// Checkpoints until shutdown; a failed checkpoint is logged and tried again (the writer's safety net remains).
    func run() async throws {
        var lastFrames = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var interval = Self.quietInterval
            do {
                let (frames, _) = try await checkpoint()
                // More frames than last time (or a WAL that restarted): writes are coming in.
                if frames != lastFrames { interval = Self.busyInterval }
                lastFrames = frames
            } catch {
                logger.warning("WAL checkpoint failed; the writer's own checkpoint stays on", metadata: ["error": "\(error)"])
            }
            let pause = interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }
}
