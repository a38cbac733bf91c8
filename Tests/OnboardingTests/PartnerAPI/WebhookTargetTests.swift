import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Onboarding

/// Partner webhooks never reach loopback, private, link-local or metadata addresses unless the operator allows it.
@Suite("Webhook targets: private addresses refused on the resolved address")
struct WebhookTargetTests {
    typealias H = ServiceHarness

    @Test(arguments: [
        ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
        ("172.31.255.255", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local (cloud metadata)"),
        ("100.64.0.1", "shared (carrier-grade NAT)"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"),
        ("255.255.255.255", "reserved"), ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"),
        ("fd00:ec2::254", "private (unique local)"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)"), ("2002:7f00:1::", "loopback"), ("ff02::1", "multicast"),
    ])
    func forbiddenAddressesAreNamed(address: String, range: String) throws {
        let bytes = try #require(WebhookTargetGuard.addressBytes(try SocketAddress(ipAddress: address, port: 443)))
        #expect(WebhookTargetGuard.forbiddenRange(bytes) == range)
    }

    @Test(arguments: ["8.8.8.8", "172.32.0.1", "100.128.0.1", "169.255.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:0808:0808::"])
    func publicAddressesAreAllowed(address: String) throws {
        let bytes = try #require(WebhookTargetGuard.addressBytes(try SocketAddress(ipAddress: address, port: 443)))
        #expect(WebhookTargetGuard.forbiddenRange(bytes) == nil)
    }

    @Test func aNameIsResolvedAndItsAddressChecked() async throws {
        let guarded = WebhookTargetGuard(allowPrivateTargets: false)
        await #expect(throws: WebhookTargetGuard.Refusal.self) {
            try await guarded.pinnedAddress(for: try #require(URL(string: "http://localhost:8080/hooks")))
        }
        await #expect(throws: WebhookTargetGuard.Refusal.self) {
            try await guarded.pinnedAddress(for: try #require(URL(string: "http://[::1]:8080/hooks")))
        }
        let allowed = WebhookTargetGuard(allowPrivateTargets: true)
        #expect(try await allowed.pinnedAddress(for: try #require(URL(string: "http://localhost:8080/hooks"))) == nil)
    }

    @Test func aLoopbackEndpointGetsNothingUnlessTheOperatorAllowsPrivateTargets() async throws {
        let receiver = WebhookReceiver(path: "/hooks")
        try await receiver.run { url in
            try await H.run { h in
                let acme = try await TestPartner.add(h, webhookURL: url)
                try await h.withService(["webhooks.allowPrivateTargets": "false"]) { browser in
                    _ = try await acme.connect(h, browser)
                    let store = try h.database()
                    var attempted: [WebhookDeliveryRecord] = []
                    for _ in 0..<200 where attempted.count < 2 {
                        attempted = try await store.webhookDeliveries(partnerId: acme.record.id, limit: 10).filter { $0.attempts > 0 }
                        if attempted.count < 2 { try await Task.sleep(for: .milliseconds(50)) }
                    }
                    #expect(attempted.count == 2, "both events were attempted")
                    #expect(attempted.allSatisfy { $0.deliveredAt == nil && $0.lastError?.contains("loopback address (127.0.0.1)") == true })
                    #expect(receiver.received.isEmpty, "nothing reached the loopback endpoint")

                    let test = try await acme.call(browser, .post, "/webhook-endpoint/test")
                    let result = try test.jsonObject()
                    #expect(result["delivered"] as? Bool == false && (result["error"] as? String)?.contains("webhooks.allowPrivateTargets") == true)
                    #expect(receiver.received.isEmpty)
                }
                try await h.withService { browser in
                    let test = try await acme.call(browser, .post, "/webhook-endpoint/test")
                    #expect(try test.jsonObject()["delivered"] as? Bool == true, "allowed (as the demo and tests do): delivered")
                    #expect(receiver.received.count >= 1)
                }
            }
        }
    }
}
