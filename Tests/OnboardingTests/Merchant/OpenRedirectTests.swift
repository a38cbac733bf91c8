import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Onboarding

/// No address leads a browser off our origin: control characters are refused first, static files live under `/assets/`.
@Suite("Open redirects: control characters in the path, static files under /assets/")
struct OpenRedirectTests {
    typealias H = ServiceHarness

    /// The forms of issue 9's open redirect, and their cousins under `/assets/` and with other control characters.
    static let encodedControlPaths = [
        "//%00@evil.example", "/%00//evil.example", "//%00/evil.example", "/%00%09/evil.example",
        "/assets//%00@evil.example", "/assets/%00/evil.example", "/assets%00//evil.example", "//%0a@evil.example",
        "/%0D%0ALocation:%20//evil.example", "/%1f/evil.example", "/%7F/evil.example", "/%7f", "/oauth/callback%00",
    ]

    /// Raw control bytes in the request line (a tab too): NIO's parser answers 400 before any middleware runs.
    static let rawControlPaths = ["/\u{0}/evil.example", "//\u{1}@evil.example", "/\u{7F}/evil.example", "/assets/\u{0B}", "/\t/evil.example"]

    /// True when a browser following `location` stays on our origin: no header, a path that is not `//host` or
    /// `/\\host` (browsers drop tabs and newlines first, so none may appear), or our own absolute URL.
    static func staysOnOrigin(_ location: String?) -> Bool {
        guard let location else { return true }
        if location.hasPrefix("http://127.0.0.1:8080/") { return true }
        let cleaned = location.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }
        let text = String(String.UnicodeScalarView(cleaned))
        return cleaned.count == location.unicodeScalars.count && text.hasPrefix("/") && !text.hasPrefix("//")
            && !text.hasPrefix("/\\")
    }

    @Test(arguments: encodedControlPaths)
    func anEncodedControlCharacterInThePathIsRefusedBeforeRouting(path: String) async throws {
        try await H.run { h in
            try await h.withService { browser in
                let page = try await browser.get(path)
                #expect(page.status == .badRequest)
                #expect(page.headers[.location] == nil)
                #expect(page.html.contains("That address is not valid"))
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            }
            #expect(h.logs.all.contains { $0.contains("refused: control character in the path") })
            #expect(!h.logs.all.contains { $0.contains("\u{0}") })
        }
    }

    @Test func overARealSocketNoControlPathIsAnsweredWithARedirect() async throws {
        try await H.run { h in
            try await h.withLiveService { port in
                for path in Self.encodedControlPaths {
                    let answer = try await RawHTTP.request(path, port: port)
                    #expect(answer.status == 400, "\(path): \(answer)")
                    #expect(answer.header("location") == nil, "\(path)")
                    #expect(answer.body.contains("That address is not valid"), "\(path)")
                }
                for path in Self.rawControlPaths {
                    // NIO's parser refuses these request lines itself, before our guard sees them.
                    let answer = try await RawHTTP.request(path, port: port)
                    #expect(answer.status == 400, "\(path.debugDescription): \(answer)")
                    #expect(answer.header("location") == nil, "\(path.debugDescription)")
                }
            }
        }
    }

    /// Everything a visitor can ask for without a session, including folder-like and doubled-slash addresses.
    static let probes = [
        "/", "/oauth/callback?state=nope", "/connection", "/nowhere", "//evil.example", "//evil.example/", "/\\evil.example",
        "/%2F%2Fevil.example", "/%5Cevil.example", "/assets", "/assets/", "/assets/.", "/assets//evil.example",
        "/assets/%2F%2Fevil.example", "/assets/../Templates/layout.mustache", "/assets/%2e%2e/Package.swift", "/Public/",
        "/Public/style.css", "/style.css", "/.", "/Templates", "/webhooks/square", "/healthz",
    ]

    @Test func noAnswerLeavesOurOriginButTheSquareAuthorizeRedirect() async throws {
        try await H.run { h in
            try await h.withService { browser in
                for path in Self.probes {
                    let answer = try await browser.get(path)
                    #expect(Self.staysOnOrigin(answer.headers[.location]), "\(path) → \(answer.headers[.location] ?? "")")
                    #expect(answer.status != .movedPermanently && answer.status != .permanentRedirect, "\(path)")
                }
                let start = try await browser.pressConnect()
                let square = try #require(start.headers[.location])
                #expect(square.hasPrefix("http://127.0.0.1:\(h.emulatorPort)/oauth2/authorize?"))
                #expect(Self.staysOnOrigin(try await browser.get(try await h.consent(at: square)).headers[.location]))
            }
            try await h.withLiveService { port in
                for path in Self.probes {
                    let answer = try await RawHTTP.request(path, port: port)
                    #expect(answer.status != nil, "\(path)")
                    #expect(Self.staysOnOrigin(answer.header("location")), "\(path) → \(answer.header("location") ?? "")")
                }
            }
        }
    }

    @Test func staticFilesAreServedUnderAssetsAndMayBeCached() async throws {
        try await H.run { h in
            try await h.withService { browser in
                let page = try await browser.get("/")
                for file in ["style.css", "favicon.svg", "logo.svg"] {
                    #expect(page.html.contains("\"/assets/\(file)\""), "the layout links /assets/\(file)")
                }
                for (path, type) in [
                    ("/assets/style.css", "text/css"), ("/assets/favicon.svg", "image/svg+xml"), ("/assets/logo.svg", "image/svg+xml"),
                ] {
                    let file = try await browser.get(path)
                    #expect(file.status == .ok, "\(path)")
                    #expect(file.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
                    #expect(file.headers[.cacheControl] == "public, max-age=\(PublicFiles.maxAgeSeconds)", "\(path)")
                    #expect(file.headers[.contentSecurityPolicy] != nil && file.headers[.init("X-Content-Type-Options")!] == "nosniff")
                    let again = try await browser.client.execute(
                        uri: path,
                        method: .get,
                        headers: [.ifNoneMatch: try #require(file.headers[.eTag])]
                    )
                    #expect(again.status == .notModified, "\(path) revalidates by ETag")
                }
                for path in ["/style.css", "/favicon.svg", "/logo.svg", "/assets", "/assets/", "/assets/.", "/assets/nope.css", "/Public/style.css"] {
                    let answer = try await browser.get(path)
                    #expect(answer.status == .notFound, "\(path)")
                    #expect(answer.headers[.location] == nil, "\(path)")
                    #expect(answer.headers[.cacheControl] == "no-store", "\(path)")
                }
            }
        }
    }

    @Test func aFolderIsMissingNotARedirect() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("so-public-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("a".utf8).write(to: folder.appendingPathComponent("file.txt"))
        let files = PublicFiles(directory: folder.path, logger: .init(label: "test"))
        #expect(try await files.getAttributes(id: try #require(files.getFileIdentifier("/sub"))) == nil)
        #expect(try await files.getAttributes(id: try #require(files.getFileIdentifier("/"))) == nil)
        #expect(try await files.getAttributes(id: try #require(files.getFileIdentifier("/file.txt")))?.size == 1)
    }

    @Test(arguments: [
        ("/", false), ("/assets/style.css", false), ("/%20a", false), ("/%2500", false), ("/%0G", false), ("/a%", false),
        ("/a%0", false), ("/%C2%85", false), ("/%00", true), ("/%1F", true), ("/%1f", true), ("/%7f", true), ("/%7F", true),
        ("/%09", true), ("/a\u{0}", true), ("/\t", true), ("/\u{7F}", true),
    ])
    func controlCharactersAreRecognisedRawAndEncoded(path: String, refused: Bool) {
        #expect(RequestPathGuardMiddleware.hasControlCharacter(path) == refused)
    }

    @Test func aRefusedPathIsLoggedWithoutItsControlBytes() {
        #expect(RequestPathGuardMiddleware.printable("/a\u{0}b\nc%00é") == "/a%00b%0Ac%00%C3%A9")
    }
}
