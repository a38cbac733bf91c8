import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Onboarding

@Suite("Partner API: parameters, bodies and content types checked as the OpenAPI document says")
struct PartnerContractTests {
    typealias H = ServiceHarness

    @Test func queryAndPathParametersOutsideTheDocumentAre400sNamingTheParameter() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let long = String(repeating: "M", count: 65)
                let cases: [(method: HTTPRequest.Method, path: String, field: String)] = [
                    (.get, "/connections?status=bogus", "status"),
                    (.get, "/connections?limit=0", "limit"),
                    (.get, "/connections?limit=201", "limit"),
                    (.get, "/connections?limit=abc", "limit"),
                    (.get, "/connections?reference=", "reference"),
                    (.get, "/connections?cursor=", "cursor"),
                    (.get, "/connections/ML%20X", "merchant_id"),
                    (.get, "/connections/\(long)", "merchant_id"),
                    (.delete, "/connections/ML%3CX", "merchant_id"),
                    (.post, "/connections/ML.X/access-token", "merchant_id"),
                ]
                for (method, path, field) in cases {
                    let answer = try await partner.call(browser, method, path)
                    #expect(answer.status == .badRequest, "\(method) \(path): \(answer.html)")
                    let error = try answer.apiError()
                    #expect(error["field"] as? String == field, "\(path) → \(error)")
                    #expect(error["code"] as? String == "invalid_request")
                    #expect((error["message"] as? String)?.contains("JSON") == false, "a GET is never told its body is bad JSON")
                }
                let fine = try await partner.call(browser, .get, "/connections?status=active&limit=200&reference=r")
                #expect(fine.status == .ok)
                #expect(try await partner.call(browser, .get, "/connections/MLNOBODY_1-x").status == .notFound)
            }
        }
    }

    @Test func bodyLimitsOfTheDocumentAreEnforced() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let url = "https://acme.example/onboarding/done"
                let many = (0..<65).map { _ in #""MERCHANT_PROFILE_READ""# }.joined(separator: ",")
                let cases: [(json: String, field: String)] = [
                    (#"{"reference":"a","return_url":"\#(url)","scopes":[\#(many)]}"#, "scopes"),
                    (#"{"reference":"a","return_url":"\#(url)","scopes":[]}"#, "scopes"),
                    (#"{"reference":"\#(String(repeating: "r", count: 201))","return_url":"\#(url)"}"#, "reference"),
                    (#"{"reference":"","return_url":"\#(url)"}"#, "reference"),
                    (#"{"reference":"a","return_url":"\#(url)","scopes":["payments_read"]}"#, "scopes[0]"),
                    (#"{"reference":"a","return_url":"\#(url)","expires_in":604801}"#, "expires_in"),
                ]
                for (json, field) in cases {
                    let answer = try await partner.call(browser, .post, "/onboarding-links", json: json)
                    #expect(answer.status == .badRequest, "\(json.prefix(80)): \(answer.html)")
                    #expect(try answer.apiError()["field"] as? String == field, "\(json.prefix(80))")
                }
                let token = try await partner.call(browser, .post, "/connections/MLSANDBOXCAFE/access-token", json: #"{"min_valid_for":-1}"#)
                #expect(token.status == .badRequest)
                #expect(try token.apiError()["field"] as? String == "min_valid_for")
                #expect(try await h.database().auditEvents().filter { $0.action == .linkCreated }.isEmpty, "no link was made")
            }
        }
    }

    @Test func onlyJSONIsAcceptedAsABodysMediaType() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.withService { browser in
                let json = #"{"reference":"a","return_url":"https://acme.example/onboarding/done"}"#
                for type in ["application/jsonx", "application/json-patch", "text/json", "application/x-www-form-urlencoded"] {
                    let answer = try await partner.call(browser, .post, "/onboarding-links", json: json, headers: [.contentType: type])
                    #expect(answer.status == .unsupportedMediaType && answer.errorCode == "unsupported_media_type", "\(type)")
                }
                for type in ["application/json; charset=utf-8", "Application/JSON"] {
                    let answer = try await partner.call(browser, .post, "/onboarding-links", json: json, headers: [.contentType: type])
                    #expect(answer.status == .created, "\(type): \(answer.html)")
                }
            }
        }
    }

    @Test func eachAPIKeyHasItsOwnLimitAnnouncedInHeadersAndAnsweredWith429() async throws {
        try await H.run { h in
            let acme = try await TestPartner.add(h)
            let globex = try await TestPartner.add(h, name: "globex", displayName: "Globex", returnURLs: ["https://globex.example/"])
            try await h.withService(["rateLimit.partnerApiPerMinute": "5"]) { browser in
                var answers: [TestResponse] = []
                for _ in 0..<6 { answers.append(try await acme.call(browser, .get, "/connections")) }
                #expect(answers.prefix(5).allSatisfy { $0.status == .ok })
                #expect(answers[0].headers[.init("RateLimit-Limit")!] == "5" && answers[0].headers[.init("RateLimit-Remaining")!] == "4")
                #expect(answers[4].headers[.init("RateLimit-Remaining")!] == "0")
                let refused = answers[5]
                #expect(refused.status == .tooManyRequests && refused.errorCode == "rate_limited")
                let retryAfter = try #require(refused.headers[.retryAfter].flatMap(Int.init))
                #expect((1...12).contains(retryAfter), "one request comes back every 12 s at 5 a minute: \(retryAfter)")
                #expect(refused.headers[.init("RateLimit-Remaining")!] == "0")
                #expect(try await globex.call(browser, .get, "/connections").status == .ok, "another partner's key has its own bucket")
                #expect(try await browser.get("/").status == .ok, "merchants are not slowed")
                #expect(h.logs.all.filter { $0.contains("Partner API rate-limited") }.count == 1, "a flood is logged once")
            }
        }
    }
}
