import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Onboarding

/// A partner that serves our pages and callback under its own domain, through a reverse proxy: with `public.baseUrl`
/// set to the proxy's address (and the same redirect URL registered at Square), the whole flow works through it.
@Suite("Partner: the flow through the partner's own reverse proxy")
struct PartnerProxyTests {
    /// A reverse proxy on a free loopback port: every request goes to `upstream` as it came, every answer back as it was.
    static func proxy(to upstream: @escaping @Sendable () -> Int, client: HTTPClient) -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        let forward: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var outgoing = HTTPClientRequest(url: "http://127.0.0.1:\(upstream())\(request.uri.description)")
            outgoing.method = .init(rawValue: request.method.rawValue)
            for field in request.headers where field.name != .contentLength {
                outgoing.headers.add(name: field.name.rawName, value: field.value)
            }
            let body = try await request.body.collect(upTo: 1 << 20)
            if body.readableBytes > 0 { outgoing.body = .bytes(body) }
            let answer = try await client.execute(outgoing, timeout: .seconds(15))
            let answerBody = try await answer.body.collect(upTo: 1 << 22)
            var headers = HTTPFields()
            for (name, value) in answer.headers where name.lowercased() != "content-length" && name.lowercased() != "transfer-encoding" {
                if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
            }
            return Response(status: .init(code: Int(answer.status.code)), headers: headers, body: .init(byteBuffer: answerBody))
        }
        for method in [HTTPRequest.Method.get, .post, .delete] {
            router.on("**", method: method, use: forward)
            router.on("/", method: method, use: forward)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test func aLinkRunsThroughThePartnersProxyAndReturnsSigned() async throws {
        let upstream = Mutex(0)
        // The proxy passes redirects on to the browser rather than following them.
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        defer { _ = client.shutdown() }
        try await Self.proxy(to: { upstream.withLock { $0 } }, client: client).test(.live) { proxyClient in
            let proxyPort = try #require(proxyClient.port)
            let proxyBase = "http://127.0.0.1:\(proxyPort)"
            try await ServiceHarness.run(redirectURL: proxyBase + "/oauth/callback") { h in
                let partner = try await TestPartner.add(h)
                try await h.withLiveService(["public.baseUrl": proxyBase]) { port in
                    upstream.withLock { $0 = port }
                    let browser = Browser(client: proxyClient)
                    let link = try await partner.createLink(browser)
                    let url = try #require(link["url"] as? String)
                    #expect(url.hasPrefix(proxyBase + "/connect/lnk_"), "links name the partner's address")
                    let start = try await browser.pressConnect(link: url)
                    let location = try #require(start.headers[.location])
                    let redirect = URLComponents(string: location)?.queryItems?.first { $0.name == "redirect_uri" }?.value
                    #expect(redirect == proxyBase + "/oauth/callback", "Square sends the merchant back through the proxy")
                    let back = try await browser.get(try await h.consent(at: location))
                    #expect(back.status == .seeOther)
                    let values = try partner.verify(try #require(back.headers[.location]))
                    #expect(values["status"] == "connected" && values["merchant_id"] == "MLSANDBOXCAFE")
                }
            }
        }
    }
}
