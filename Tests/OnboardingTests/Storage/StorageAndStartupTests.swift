import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import OnboardCrypto
import Synchronization
import Testing

@testable import Onboarding

@Suite("Storage, restarts, secrecy and start-up checks")
struct StorageAndStartupTests {
    typealias H = ServiceHarness

    /// An authorization started before a restart completes after it: the state lives in SQLite.
    @Test func authorizationStartedBeforeARestartCompletesAfterIt() async throws {
        try await H.run { h in
            let cookies = Mutex<[String: String]>([:])
            let callback = Mutex<String>("")
            try await h.withService { browser in
                callback.withLock { $0 = "" }
                let url = try await h.startAndConsent(browser)
                callback.withLock { $0 = url }
                cookies.withLock { $0 = browser.cookies }
            }
            try await h.withService { browser in
                for (name, value) in cookies.withLock({ $0 }) { browser.setCookie(name, value) }
                let answer = try await browser.get(callback.withLock { $0 })
                #expect(answer.status == .seeOther)
                #expect(try await browser.get("/connection").html.contains("MLSANDBOXCAFE"))
            }
        }
    }

    /// The SQLite file, read raw and through the sqlite3 shell, holds no readable token, code or verifier.
    @Test func databaseFileHoldsNoReadableSecret() async throws {
        try await H.run { h in
            let secrets = Mutex<[String]>([])
            try await h.withService { browser in
                let callback = try await h.startAndConsent(browser)
                let code = String(try #require(callback.firstMatch(of: /code=([^&]+)/)?.output.1))
                let state = String(try #require(callback.firstMatch(of: /state=([^&]+)/)?.output.1))
                _ = try await browser.get(callback)
                let ring = try KeyRing(parsing: h.keys)
                let vault = TokenVault(keyRing: ring)
                let environment = "custom"
                let connection = try #require(try await h.database().connection(environment: environment, merchantId: "MLSANDBOXCAFE"))
                let access = try vault.openAccessToken(
                    try #require(connection.sealedAccessToken),
                    environment: environment,
                    merchantId: "MLSANDBOXCAFE"
                )
                let refresh = try vault.openRefreshToken(
                    try #require(connection.sealedRefreshToken),
                    environment: environment,
                    merchantId: "MLSANDBOXCAFE"
                )
                let authorization = try #require(try await h.database().authorization(stateHash: sha256Hex(state)))
                let verifier = try vault.openCodeVerifier(authorization.sealedCodeVerifier, stateHash: authorization.stateHash)
                #expect(access.value.hasPrefix("EAAA") && refresh.value.hasPrefix("EQAA"))
                secrets.withLock { $0 = [access.value, refresh.value, code, state, verifier.value, ServiceHarness.clientSecret] }
            }
            let path = (h.dataDirectory as NSString).appendingPathComponent("square-onboard.sqlite")
            var raw = try Data(contentsOf: URL(fileURLWithPath: path))
            if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { raw.append(wal) }
            let text = String(decoding: raw, as: UTF8.self)
            let dump = try sqliteDump(path)
            #expect(dump.contains("CREATE TABLE"), "the sqlite3 shell read the file")
            #expect(dump.contains("MLSANDBOXCAFE"))
            for secret in secrets.withLock({ $0 }) {
                #expect(!text.contains(secret))
                #expect(!dump.contains(secret))
            }
            #expect(!dump.contains("EAAA") && !dump.contains("EQAA"))
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
    }

    /// The folder and all three SQLite files are private from the first byte written, WAL and SHM included.
    static func modes(_ h: ServiceHarness) throws -> [String: Int] {
        let files = FileManager.default
        var modes = ["folder": try files.attributesOfItem(atPath: h.dataDirectory)[.posixPermissions] as? Int ?? -1]
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try files.attributesOfItem(atPath: h.databasePath + suffix)
            modes["sqlite" + suffix] = (attributes[.posixPermissions] as? Int ?? -1) & 0o777
        }
        modes["folder"] = modes["folder"]! & 0o777
        return modes
    }

    static let privateModes = ["folder": 0o700, "sqlite": 0o600, "sqlite-wal": 0o600, "sqlite-shm": 0o600]

    @Test func aFreshDataFolderAndItsDatabaseFilesAreReadableOnlyByUs() async throws {
        try await ServiceHarness.run { h in
            try await h.withService { browser in
                let answer = try await h.connect(browser)
                let modes = try Self.modes(h)
                #expect(answer.status == .seeOther)
                #expect(modes == Self.privateModes)
            }
        }
    }

    @Test func looserModesLeftByAnOperatorAreTightenedAtStart() async throws {
        try await ServiceHarness.run { h in
            try await h.connectMerchants(["MLSANDBOXCAFE"])
            let files = FileManager.default
            try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: h.dataDirectory)
            for suffix in ["", "-wal", "-shm"] where files.fileExists(atPath: h.databasePath + suffix) {
                try files.setAttributes([.posixPermissions: 0o644], ofItemAtPath: h.databasePath + suffix)
            }
            try await h.withService { browser in
                let health = try await browser.get("/healthz")
                let modes = try Self.modes(h)
                #expect(health.status == .ok)
                #expect(modes == Self.privateModes)
            }
        }
    }

    /// No token, code, state, verifier or client secret in any log line or page of a connect-and-disconnect run.
    @Test func secretsNeverReachLogsOrPages() async throws {
        try await H.run { h in
            try await h.withService(["log.level": "trace"]) { browser in
                var pages: [String] = []
                let callback = try await h.startAndConsent(browser)
                let code = String(try #require(callback.firstMatch(of: /code=([^&]+)/)?.output.1))
                let state = String(try #require(callback.firstMatch(of: /state=([^&]+)/)?.output.1))
                pages.append(try await browser.get(callback).html)
                pages.append(try await browser.get(callback).html)
                pages.append(try await browser.get("/connection").html)
                let csrf = try await browser.csrfToken(on: "/connection")
                h.emulator.inject(.status(503, path: "/oauth2/revoke"))
                pages.append(try await browser.post("/connection/disconnect", form: ["csrf_token": csrf]).html)
                pages.append(try await browser.post("/connection/disconnect", form: ["csrf_token": csrf]).html)
                let lines = h.logs.all
                #expect(lines.contains { $0.contains("Merchant connected") })
                #expect(lines.contains { $0.contains("GET /oauth/callback") })
                for secret in [code, state, ServiceHarness.clientSecret] + browser.cookies.values {
                    for text in lines + pages { #expect(!text.contains(secret), "leaked into: \(text.prefix(200))") }
                }
                for text in lines + pages { #expect(!text.contains("EAAA") && !text.contains("EQAA")) }
            }
        }
    }

    @Test func missingTemplatesStopTheStartWithAClearMessage() async throws {
        try await H.run { h in
            let resources = FileManager.default.temporaryDirectory.appendingPathComponent("so-res-\(SecureRandom.urlSafeToken(byteCount: 6))")
            defer { try? FileManager.default.removeItem(at: resources) }
            try FileManager.default.createDirectory(at: resources.appendingPathComponent("Templates"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: resources.appendingPathComponent("Public"), withIntermediateDirectories: true)
            try "{{$content}}{{/content}}".write(to: resources.appendingPathComponent("Templates/layout.mustache"), atomically: true, encoding: .utf8)
            do {
                _ = try await buildApplication(configuration: h.configuration(["resources.directory": resources.path]))
                Issue.record("the start should have failed")
            } catch {
                #expect("\(error)".contains("connect.mustache, connection.mustache, error.mustache"))
            }
            do {
                _ = try await buildApplication(configuration: h.configuration(["resources.directory": "/nonexistent"]))
                Issue.record("the start should have failed")
            } catch {
                #expect("\(error)".contains("templates missing in '/nonexistent/Templates'"))
            }
        }
    }

    @Test(arguments: [
        ("square.clientId", "", "missing square.clientId (--square-client-id or SQUARE_CLIENT_ID)"),
        ("onboard.encryptionKeys", "", "missing onboard.encryptionKeys (--onboard-encryption-keys or ONBOARD_ENCRYPTION_KEYS)"),
        (
            "onboard.encryptionKeys", "k1:tooshort",
            "onboard.encryptionKeys (--onboard-encryption-keys or ONBOARD_ENCRYPTION_KEYS) an AES-256 key must be 32 bytes"
        ),
        ("square.timeoutSeconds", "0", "square.timeoutSeconds (--square-timeout-seconds or SQUARE_TIMEOUT_SECONDS) must be 1 to 120"),
        ("square.flow", "implicit", "square.flow (--square-flow or SQUARE_FLOW) must be pkce or code"),
        ("square.scopes", "PAYMENTS_READ FLY_TO_MOON", "'FLY_TO_MOON' is not a Square permission"),
        ("square.environment", "staging", "must be production, sandbox or an http(s) URL"),
        ("public.baseUrl", "onboard.example.com", "public.baseUrl (--public-base-url or PUBLIC_BASE_URL) must be an absolute"),
        ("http.port", "99999", "http.port (--http-port or HTTP_PORT) must be 0 to 65535"),
        ("log.level", "loud", "log.level"),
    ])
    func badConfigurationNamesTheKey(key: String, value: String, message: String) async throws {
        try await H.run { h in
            #expect {
                _ = try h.configuration([key: value])
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }

    @Test func codeFlowNeedsTheClientSecret() async throws {
        try await H.run { h in
            #expect(throws: ConfigurationError.self) { _ = try h.configuration(["square.flow": "code", "square.clientSecret": ""]) }
        }
    }

    /// The operations guide's variable names reach the configuration through the environment provider.
    @Test func environmentVariablesConfigureTheService() throws {
        let reader = ConfigReader(
            provider: EnvironmentVariablesProvider(environmentVariables: [
                "SQUARE_CLIENT_ID": "sq0idp-env", "ONBOARD_ENCRYPTION_KEYS": "k1:\(SymmetricKey.generate().base64)",
                "SQUARE_ENVIRONMENT": "production", "HTTP_PORT": "9000", "SQUARE_SCOPES": "ITEMS_READ,ORDERS_READ",
                "PUBLIC_BASE_URL": "https://onboard.example.com/",
            ])
        )
        let configuration = try AppConfiguration(reader: reader)
        #expect(configuration.squareClientId == "sq0idp-env")
        #expect(configuration.squareEnvironment == .production)
        #expect(configuration.port == 9000)
        #expect(configuration.scopes == ["ITEMS_READ", "ORDERS_READ"])
        #expect(configuration.redirectURL == "https://onboard.example.com/oauth/callback")
        #expect(configuration.secureCookies)
        #expect(configuration.flow == .pkce)
    }
}

/// `sqlite3 FILE .dump`, as an operator would inspect the file.
func sqliteDump(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [path, ".dump"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
