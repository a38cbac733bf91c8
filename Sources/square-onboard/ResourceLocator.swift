import Foundation

/// Finds the folder that holds `Templates/` and `Public/`: the configured one, else the working directory,
/// else the package checkout the executable was built in (`.build/debug/square-onboard` → the repository).
enum ResourceLocator {
    static func find(preferred: String) -> String {
        var candidates = [preferred, FileManager.default.currentDirectoryPath]
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.path)
            directory.deleteLastPathComponent()
        }
        return candidates.first { holdsResources($0) } ?? preferred
    }

    static func holdsResources(_ path: String) -> Bool {
        let manager = FileManager.default
        return manager.fileExists(atPath: (path as NSString).appendingPathComponent("Templates/layout.mustache"))
            && manager.fileExists(atPath: (path as NSString).appendingPathComponent("Public"))
    }
}
