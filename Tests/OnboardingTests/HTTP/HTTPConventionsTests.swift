import Foundation
import Testing

@testable import Onboarding

/// HTTP as monitors and browsers expect it: `HEAD` on every `GET` route, HSTS behind https.
@Suite("HTTP conventions: HEAD, Strict-Transport-Security")
struct HTTPConventionsTests {
    typealias H = ServiceHarness

    @Test func everyGetRouteAnswersHeadWithItsStatusAndLengthButNoBody() async throws {
        try await H.run { h in
            try await h.withLiveService { port in
                for path in ["/", "/healthz", "/admin/login", "/api/v1/openapi.json", "/assets/style.css"] {
                    let get = try await RawHTTP.request(path, port: port)
                    let head = try await RawHTTP.request(path, method: "HEAD", port: port)
                    #expect(get.status == 200, "GET \(path)")
                    #expect(head.status == get.status, "HEAD \(path): \(head)")
                    #expect(head.body.isEmpty, "HEAD \(path) has no body")
                    #expect(head.header("content-length") == get.header("content-length"), "HEAD \(path) says GET's length")
                    #expect(head.header("content-type") == get.header("content-type"))
                }
                let admin = try await RawHTTP.request("/admin", method: "HEAD", port: port)
                #expect(admin.status == 303 && admin.header("location")?.hasPrefix("/admin/login") == true, "signed out: as GET")
                #expect(try await RawHTTP.request("/nothing-here", method: "HEAD", port: port).status == 404)
                let callback = try await RawHTTP.request("/oauth/callback?state=s&code=c", method: "HEAD", port: port)
                #expect(callback.status == 405 && callback.header("allow") == "GET", "a HEAD never spends a state")
            }
        }
    }

    @Test func strictTransportSecurityOnlyBehindHTTPS() async throws {
        try await H.run { h in
            try await h.withLiveService(["public.baseUrl": "https://onboard.example"]) { port in
                let answer = try await RawHTTP.request("/healthz", port: port)
                #expect(answer.header("strict-transport-security") == "max-age=31536000")
            }
            try await h.withLiveService { port in
                let plain = try await RawHTTP.request("/healthz", port: port)
                #expect(plain.header("strict-transport-security") == nil)
            }
        }
    }
}
