import Foundation
import Hummingbird

// Usage: hello-world PORT — answers GET / with a short text on 127.0.0.1:PORT; Benchmarks/run drives it with wrk.
let arguments = CommandLine.arguments
guard arguments.count == 2, let port = Int(arguments[1]) else {
    print("usage: hello-world PORT")
    exit(2)
}
let router = Router()
router.get("/") { _, _ in "Hello, world!" }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
