import AsyncHTTPClient
import Foundation
import OnboardCrypto
import Testing

/// A real headless Chromium clicks through `square-onboard demo`, the README's first command, as a merchant would.
@Suite(
    "Headless Chromium through the demo",
    .enabled(
        if: WebDriver.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil,
        "needs Debian's chromium and chromium-driver (.ci/run installs them)"
    ),
    .serialized
)
struct BrowserTests {
    static let packageRoot = ServiceHarness.packageRoot
    static let screenshots = packageRoot + "/screenshots"

    @Test func merchantConnectsSeesTheConnectionAndDisconnectsInABrowser() async throws {
        try await withDemo { base, emulatorPort in
            try await WebDriver.withSession(port: try await freeLoopbackPort()) { browser in
                try await browser.open(base + "/")
                #expect(try await browser.title == "Connect your Square account · Demo Platform")
                #expect(try await browser.text("#platform-name") == "Demo Platform")
                #expect(try await browser.text("#permissions").contains("See your payments and refunds"))
                try await browser.screenshot("connect", in: Self.screenshots)

                try await browser.click("#connect")
                #expect(try await browser.text("#app-name") == "Demo Platform")
                #expect(try await browser.currentURL.hasPrefix("http://127.0.0.1:\(emulatorPort)/oauth2/authorize?"))
                try await browser.screenshot("consent", in: Self.screenshots)

                try await browser.click("#allow")
                #expect(try await browser.text("#merchant-id") == "MLSANDBOXCAFE")
                #expect(try await browser.text("#status") == "Connected")
                #expect(try await browser.text("#connected-banner").contains("You're connected"))
                #expect(try await browser.currentURL == base + "/connection?connected=1")
                try await browser.screenshot("result", in: Self.screenshots)

                try await browser.click("#disconnect")
                #expect(try await browser.text("#status") == "Disconnected")
                _ = try await browser.element("#connect-again")
                try await browser.screenshot("disconnected", in: Self.screenshots)
            }
        }
    }

    @Test func denyingLeadsToTheDenialPageAndARevocationAtSquareShowsDisconnected() async throws {
        try await withDemo { base, emulatorPort in
            try await WebDriver.withSession(port: try await freeLoopbackPort()) { browser in
                try await browser.open(base + "/")
                try await browser.click("#connect")
                try await browser.click("#deny")
                #expect(try await browser.text("#error-title") == "You chose not to connect")
                #expect(try await browser.currentURL.hasPrefix(base + "/oauth/callback?error=access_denied"))
                try await browser.screenshot("denied", in: Self.screenshots)
                try await browser.click("#try-again")

                // Connect after all, then disconnect from Square's side: the emulator's webhook reaches the demo.
                try await browser.click("#connect")
                try await browser.click("#allow")
                #expect(try await browser.text("#status") == "Connected")
                _ = try await WebDriver.call(
                    HTTPClient.shared,
                    .POST,
                    "http://127.0.0.1:\(emulatorPort)/_emulator/merchants/MLSANDBOXCAFE/revoke"
                )
                // The webhook is delivered asynchronously, as Square's are: reload as a merchant would until it lands.
                var status = ""
                let deadline = ContinuousClock.now + .seconds(10)
                repeat {
                    try await browser.open(base + "/connection")
                    status = try await browser.text("#status")
                    if status != "Disconnected" { try await Task.sleep(for: .milliseconds(200)) }
                } while status != "Disconnected" && ContinuousClock.now < deadline
                #expect(status == "Disconnected")
            }
        }
    }

    @Test func anAdminWithASecondFactorChecksRefreshesAndDisconnectsTheMerchant() async throws {
        try await withDemoAndConsole { base, _, console in
            let password = String(try #require(console().firstMatch(of: /name admin, password (\S+)/)?.output.1))
            try await WebDriver.withSession(port: try await freeLoopbackPort()) { browser in
                // A merchant connects first.
                try await browser.open(base + "/")
                try await browser.click("#connect")
                try await browser.click("#allow")
                #expect(try await browser.text("#status") == "Connected")

                // The demo's admin signs in and turns the second factor on with a code from the shown secret.
                try await browser.open(base + "/admin/login")
                try await browser.type("admin", into: "#name")
                try await browser.type(password, into: "#password")
                try await browser.click("#sign-in")
                #expect(try await browser.text("#admin-name") == "admin")
                try await browser.open(base + "/admin/account")
                try await browser.click("#set-up")
                let secret = try #require(Base32.decode(try await browser.text("#totp-secret")))
                try await browser.type(try TOTP(secret: secret).code(at: Date()), into: "#code")
                try await browser.click("#turn-on")
                _ = try await browser.element("#totp-on")
                let recovery = try await browser.text("#recovery-codes").split(separator: "\n").map(String.init)
                #expect(recovery.count == 10)

                // Signing in again asks for the second factor; a recovery code answers it once.
                try await browser.open(base + "/admin")
                try await browser.click("#sign-out")
                try await browser.open(base + "/admin/login")
                try await browser.type("admin", into: "#name")
                try await browser.type(password, into: "#password")
                try await browser.click("#sign-in")
                try await browser.type(try #require(recovery.first), into: "#code")
                try await browser.click("#verify-code")
                #expect(try await browser.text("#admin-name") == "admin")
                try await browser.screenshot("admin-overview", in: Self.screenshots)

                // The connection from the merchant flow: check, refresh, disconnect, and the audit log says who.
                try await browser.open(base + "/admin/connections?q=MLSANDBOXCAFE")
                try await browser.screenshot("admin-connections", in: Self.screenshots)
                try await browser.click("a.merchant")
                #expect(try await browser.text("#merchant-id") == "MLSANDBOXCAFE")
                try await browser.click("#check-status")
                #expect(try await browser.text("#flash").contains("Square says the token is valid"))
                try await browser.click("#refresh-now")
                #expect(try await browser.text("#flash").contains("Refreshed"))
                try await browser.screenshot("admin-connection", in: Self.screenshots)
                try await browser.click("#disconnect")
                try await browser.click("#confirm-disconnect")
                #expect(try await browser.text("#flash").contains("Disconnected"))
                #expect(try await browser.text("#status") == "revoked")
                let history = try await browser.text("#history")
                for action in ["connection.revoked", "token.refreshed", "token.status_checked"] {
                    #expect(history.contains(action), "\(action) in the history")
                }
                #expect(history.contains("admin:admin"))
            }
        }
    }
}
