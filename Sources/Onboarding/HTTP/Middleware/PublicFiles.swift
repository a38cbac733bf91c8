import Hummingbird
import Logging
import NIOPosix

/// The files of `Public/`, served under `/assets/`; a folder counts as missing, so it is never answered with a redirect.
///
/// `FileMiddleware` redirects a folder requested without a trailing slash to the decoded path plus `/`. Mounted at `/`,
/// `GET //%00@evil.example` found `Public/` itself (the lookup stops at the NUL) and answered `Location: // @evil.example/`.
struct PublicFiles: FileProvider {
    typealias FileAttributes = LocalFileSystem.FileAttributes
    typealias FileIdentifier = LocalFileSystem.FileIdentifier

    /// The URL prefix of every static file: `/assets/style.css` is `Public/style.css`.
    static let urlPrefix = "/assets"
    /// Browsers and proxies may keep a file this long before asking again (with its ETag).
    static let maxAgeSeconds = 3600

    let files: LocalFileSystem

    init(directory: String, logger: Logger) {
        files = LocalFileSystem(rootFolder: directory, threadPool: .singleton, logger: logger)
    }

    /// The middleware that serves these files under `urlPrefix`, cacheable for `maxAgeSeconds`.
    static func middleware<Context: RequestContext>(
        directory: String,
        logger: Logger,
        context: Context.Type = Context.self
    ) -> FileMiddleware<Context, PublicFiles> {
        FileMiddleware(
            fileProvider: PublicFiles(directory: directory, logger: logger),
            urlBasePath: urlPrefix,
            cacheControl: CacheControl([(MediaType(type: .any), [.public, .maxAge(maxAgeSeconds)])]),
            searchForIndexHtml: false
        )
    }

    func getFileIdentifier(_ path: String) -> FileIdentifier? {
        files.getFileIdentifier(path)
    }

    /// The attributes of a regular file; nil for a folder or a missing file, which `FileMiddleware` turns into 404.
    func getAttributes(id: FileIdentifier) async throws -> FileAttributes? {
        guard let attributes = try await files.getAttributes(id: id), !attributes.isFolder else { return nil }
        return attributes
    }

    func loadFile(id: FileIdentifier, context: some RequestContext) async throws -> ResponseBody {
        try await files.loadFile(id: id, context: context)
    }

    func loadFile(id: FileIdentifier, range: ClosedRange<Int>, context: some RequestContext) async throws -> ResponseBody {
        try await files.loadFile(id: id, range: range, context: context)
    }
}
