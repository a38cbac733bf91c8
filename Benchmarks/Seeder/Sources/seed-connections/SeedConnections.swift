import Foundation
import Onboarding

/// `seed-connections`: writes many connections through the service's storage code, and their tokens to the emulator.
@main
enum SeedConnections {
    static func main() async {
        do {
            let options = try SeedOptions(Array(CommandLine.arguments.dropFirst()))
            try await run(options)
        } catch SeedError.help {
            print(SeedOptions.usage)
        } catch let error as SeedError {
            FileHandle.standardError.write(Data("seed-connections: \(error)\n".utf8))
            exit(64)
        } catch {
            FileHandle.standardError.write(Data("seed-connections: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: SeedOptions) async throws {
        let configuration = try await AppConfiguration.load(flags: options.settings)
        let importer = try await ConnectionImporter.open(configuration: configuration)
        let emulator = options.emulator.map(EmulatorRegistration.init(baseURL:))
        let codeShare: Double =
            switch options.flow {
            case "code": 1
            case "pkce": 0
            case "mixed": 0.2
            default: configuration.squareClientSecret == nil ? 0 : 0.2
            }
        var mix = ConnectionMix(
            statuses: options.statuses,
            due: options.due,
            statusDue: options.statusDue,
            codeShare: codeShare,
            seed: options.seed,
            now: Date()
        )
        let started = ContinuousClock.now
        var statusCounts: [String: Int] = [:]
        var done = 0
        while done < options.count {
            let size = min(options.batch, options.count - done)
            let batch = (done..<(done + size)).map { mix.connection(index: $0) }
            for connection in batch { statusCounts[connection.status.rawValue, default: 0] += 1 }
            // The emulator first: a connection in the database is then always one Square knows.
            try await emulator?.register(batch)
            try await importer.importBatch(batch)
            done += size
            let seconds = seconds(since: started)
            FileHandle.standardError.write(
                Data(
                    "progress: \(done)/\(options.count) connections, \(Int(Double(done) / max(seconds, 0.001)))/s\n".utf8
                )
            )
        }
        let seconds = seconds(since: started)
        let summary = statusCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print(
            "seeded \(done) connections (\(summary)) in \(String(format: "%.1f", seconds)) s into \(configuration.databasePath)"
                + (options.emulator.map { "; tokens registered at \($0.absoluteString)" } ?? "")
        )
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
