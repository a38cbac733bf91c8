import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OnboardCrypto
import Synchronization
import Testing

@testable import Onboarding

/// A partner's own app (a small Hummingbird server) embeds the flow: headless Chromium follows its link through the
/// demo and the emulator and lands back on the partner's page with a good signature; the partner hears
/// `connection.created` and fetches a token Square accepts; the same merchant again in popup mode reports to the
/// opener page, and not to a page on an origin the partner did not allow; then the partner disconnects and hears
/// `connection.revoked`.
extension BrowserTests {
    /// What the test partner app received.
    final class PartnerApp: Sendable {
        let returns = Mutex<[String]>([])
        let popupResults = Mutex<[String]>([])
        let hooks = Mutex<[(headers: HTTPFields, body: String)]>([])
        let key = Mutex<String>("")

        func router(base: String, port: @escaping @Sendable () -> Int) -> Router<BasicRequestContext> {
            let router = Router()
            // The partner's "Connect Square" button: its backend makes a link and sends the browser there.
            router.get("/start") { _, _ -> Response in
                let json = #"{"reference":"acct-42","return_url":"http://127.0.0.1:\#(port())/return"}"#
                let link = try await self.api(base, .POST, "/onboarding-links", json: json)
                return Response(status: .seeOther, headers: [.location: link["url"] as? String ?? "/no-link"])
            }
            // Popup mode: the page includes square-onboard.js and opens the link (made when the page is rendered).
            router.get("/popup") { _, _ -> Response in
                let json = #"{"reference":"acct-43","return_url":"http://127.0.0.1:\#(port())/return","mode":"popup"}"#
                let link = try await self.api(base, .POST, "/onboarding-links", json: json)
                let url = link["url"] as? String ?? ""
                let page = """
                    <!doctype html><title>Acme settings</title>
                    <script src="\(base)/assets/square-onboard.js"></script>
                    <button id="connect-square">Connect Square</button><p id="result"></p>
                    <script>
                    document.getElementById("connect-square").addEventListener("click", function () {
                      SquareOnboard.open("\(url)", function (result) {
                        fetch("/result", { method: "POST", body: JSON.stringify(result) }).then(function () {
                          document.getElementById("result").textContent = result.status + " " + result.merchant_id;
                        });
                      });
                    });
                    </script>
                    """
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
            }
            router.post("/result") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 16)
                self.popupResults.withLock { $0.append(String(buffer: body)) }
                return Response(status: .noContent)
            }
            router.get("/return") { request, _ -> Response in
                self.returns.withLock { $0.append(request.uri.description) }
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/html; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "<!doctype html><title>Back at Acme</title><p id=back>Back at Acme</p>"))
                )
            }
            router.post("/hooks") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 16)
                self.hooks.withLock { $0.append((request.headers, String(buffer: body))) }
                return Response(status: .noContent)
            }
            return router
        }

        /// One call to the partner API with this partner's key; the answer's JSON object.
        func api(_ base: String, _ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> [String: Any] {
            var request = HTTPClientRequest(url: base + "/api/v1" + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer " + key.withLock { $0 })
            if let json {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: json))
            }
            let answer = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
            let body = try await answer.body.collect(upTo: 1 << 16)
            return try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        }

        /// Waits for the webhook of `type`.
        func hook(_ type: String) async throws -> (headers: HTTPFields, body: String) {
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if let found = hooks.withLock({ $0.first { $0.body.contains(#""type":"\#(type)""#) } }) { return found }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw WebDriverError.notAnswering("no \(type) webhook within 20 s")
        }
    }

    /// Whether a Standard Webhooks signature checks out with the partner's secret.
    static func webhookSignatureIsGood(_ hook: (headers: HTTPFields, body: String), secret: String) throws -> Bool {
        let id = try #require(hook.headers[HTTPField.Name("webhook-id")!])
        let timestamp = try #require(hook.headers[HTTPField.Name("webhook-timestamp")!])
        let key = Array(try #require(Data(base64Encoded: String(secret.dropFirst("whsec_".count)))))
        let mac = HMACSHA256.authenticationCode(for: Array("\(id).\(timestamp).\(hook.body)".utf8), key: key)
        return hook.headers[HTTPField.Name("webhook-signature")!] == "v1," + Data(mac).base64EncodedString()
    }

    @Test func aPartnersAppSendsItsMerchantThroughTheFlowAndHearsOfIt() async throws {
        try await withDemo { base, emulatorPort in
            let app = PartnerApp()
            let partnerPort = Mutex(0)
            let partnerApp = Application(
                router: app.router(base: base) { partnerPort.withLock { $0 } },
                configuration: .init(address: .hostname("127.0.0.1", port: 0))
            )
            try await partnerApp.test(.live) { client in
                let port = try #require(client.port)
                partnerPort.withLock { $0 = port }
                // The operator adds the partner to the demo's database, with the demo's key, as the partner guide shows.
                let data = FileManager.default.temporaryDirectory.appendingPathComponent("so-demo-\(URL(string: base)!.port!)").path
                let keysLine = try String(contentsOfFile: data + "/demo-keys.env", encoding: .utf8)
                let added = try BuiltExecutable.run(
                    [
                        "partner", "add", "acme", "--display-name", "Acme Payroll", "--return-url", "http://127.0.0.1:\(port)/",
                        "--webhook-url", "http://127.0.0.1:\(port)/hooks", "--popup-origin", "http://127.0.0.1:\(port)",
                    ],
                    environment: [
                        "PATH": "/usr/bin:/bin", "DATA_DIRECTORY": data,
                        "ONBOARD_ENCRYPTION_KEYS": String(keysLine.dropFirst("ONBOARD_ENCRYPTION_KEYS=".count)).trimmingCharacters(in: .newlines),
                    ]
                )
                #expect(added.exitCode == 0, "\(added.stderr)")
                let key = try #require(added.stdout.firstMatch(of: /(sok_[a-z2-7]{8}_[A-Za-z0-9_-]{43})/)?.output.1)
                let secret = String(try #require(added.stdout.firstMatch(of: /(whsec_[A-Za-z0-9+\/=]{44})/)?.output.1))
                app.key.withLock { $0 = String(key) }

                try await WebDriver.withSession(port: try await freeLoopbackPort()) { browser in
                    try await browser.open("http://127.0.0.1:\(port)/start")
                    #expect(try await browser.text("#partner-name") == "Acme Payroll")
                    #expect(try await browser.currentURL.hasPrefix(base + "/connect/lnk_"))
                    try await browser.click("#connect")
                    #expect(try await browser.currentURL.hasPrefix("http://127.0.0.1:\(emulatorPort)/oauth2/authorize?"))
                    try await browser.click("#allow")
                    #expect(try await browser.text("#back") == "Back at Acme")
                    #expect(try await browser.currentURL.hasPrefix("http://127.0.0.1:\(port)/return?"))
                }
                let returned = try #require(app.returns.withLock { $0.first })
                var values: [String: String] = [:]
                for item in URLComponents(string: returned)?.queryItems ?? [] { values[item.name] = item.value ?? "" }
                let message = ["link_id", "status", "result", "merchant_id", "reference", "error", "timestamp"].map { values[$0] ?? "" }
                let expected = PartnerReturn.sign(message, secret: secret)
                #expect(values["signature"] == expected, "the return carries the partner's signature")
                #expect(values["status"] == "connected" && values["merchant_id"] == "MLSANDBOXCAFE" && values["reference"] == "acct-42")

                let created = try await app.hook("connection.created")
                #expect(try Self.webhookSignatureIsGood(created, secret: secret))
                let token = try await app.api(base, .POST, "/connections/MLSANDBOXCAFE/access-token", json: #"{"min_valid_for":600}"#)
                let accessToken = try #require(token["access_token"] as? String)
                var status = HTTPClientRequest(url: "http://127.0.0.1:\(emulatorPort)/oauth2/token/status")
                status.method = .POST
                status.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
                #expect(try await HTTPClient.shared.execute(status, timeout: .seconds(10)).status == .ok, "Square accepts the token")

                // The same merchant again, in popup mode: the result reaches the opener page and the popup closes.
                try await WebDriver.withSession(port: try await freeLoopbackPort()) { browser in
                    try await browser.open("http://127.0.0.1:\(port)/popup")
                    let opener = try await browser.windowHandle
                    try await browser.press("#connect-square")
                    let handles = try await browser.waitForWindows(2)
                    let popup = try #require(handles.first { $0 != opener })
                    try await browser.switchToWindow(popup)
                    let opened = ContinuousClock.now + .seconds(15)
                    while try await !browser.currentURL.hasPrefix(base), ContinuousClock.now < opened {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(try await browser.currentURL.hasPrefix(base + "/connect/lnk_"), "the popup opened the link")
                    #expect(try await browser.text("#partner-name") == "Acme Payroll")
                    try await browser.click("#connect")
                    try await browser.press("#allow")  // the popup closes itself: no page to wait for
                    _ = try await browser.waitForWindows(1, timeout: .seconds(15))
                    try await browser.switchToWindow(opener)
                    let deadline = ContinuousClock.now + .seconds(10)
                    while try await browser.text("#result").isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
                    #expect(try await browser.text("#result") == "connected MLSANDBOXCAFE")
                }
                let posted = try #require(app.popupResults.withLock { $0.first })
                let result = try #require(try JSONSerialization.jsonObject(with: Data(posted.utf8)) as? [String: String])
                let popupMessage = ["link_id", "status", "result", "merchant_id", "reference", "error", "timestamp"].map { result[$0] ?? "" }
                #expect(result["signature"] == PartnerReturn.sign(popupMessage, secret: secret), "the popup's result is signed too")
                #expect(result["result"] == "reconnected" && result["reference"] == "acct-43", "the same connection, under the new link's reference")
                #expect(app.returns.withLock { $0.count } == 1, "the popup did not fall back to the redirect")
                let reconnected = try await app.hook("connection.reconnected")
                #expect(try Self.webhookSignatureIsGood(reconnected, secret: secret))
                #expect(reconnected.body.contains(#""reference":"acct-43""#))

                // The same page served from an origin the partner did not allow: the popup's result reaches nobody.
                let strangerApp = Application(
                    router: app.router(base: base) { partnerPort.withLock { $0 } },
                    configuration: .init(address: .hostname("127.0.0.1", port: 0))
                )
                try await strangerApp.test(.live) { stranger in
                    let strangerPort = try #require(stranger.port)
                    try await WebDriver.withSession(port: try await freeLoopbackPort()) { browser in
                        try await browser.open("http://127.0.0.1:\(strangerPort)/popup")
                        let opener = try await browser.windowHandle
                        try await browser.press("#connect-square")
                        let popup = try #require(try await browser.waitForWindows(2).first { $0 != opener })
                        try await browser.switchToWindow(popup)
                        try await browser.click("#connect")
                        try await browser.press("#allow")
                        _ = try await browser.waitForWindows(1, timeout: .seconds(15))
                        try await browser.switchToWindow(opener)
                        try await Task.sleep(for: .seconds(1))
                        #expect(try await browser.text("#result").isEmpty, "no message reached an opener on another origin")
                    }
                }
                #expect(app.popupResults.withLock { $0.count } == 1)

                let deleted = try await app.api(base, .DELETE, "/connections/MLSANDBOXCAFE")
                #expect(deleted["status"] as? String == "revoked")
                let revoked = try await app.hook("connection.revoked")
                #expect(try Self.webhookSignatureIsGood(revoked, secret: secret))
                #expect(revoked.body.contains(#""revoked_by":"partner:"#))
            }
        }
    }
}
