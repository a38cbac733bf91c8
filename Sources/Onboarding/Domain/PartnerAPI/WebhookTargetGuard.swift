import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Which addresses partner webhooks may reach: never loopback, private, link-local, shared (CGNAT), multicast,
/// reserved or cloud metadata addresses, unless the operator allows private targets (`webhooks.allowPrivateTargets`).
///
/// The host is resolved once per attempt, the address checked, and the connection made to that same address (the
/// HTTP client's DNS override), so a name that answers differently a moment later (DNS rebinding) changes nothing.
struct WebhookTargetGuard: Sendable {
    var allowPrivateTargets: Bool

    /// Why a target was refused, in words for the delivery's last error.
    struct Refusal: Error, Equatable {
        var reason: String
    }

    /// The address to connect to for `url`: nil when any address is allowed (resolve as usual), or the checked IP.
    func pinnedAddress(for url: URL) async throws(Refusal) -> String? {
        guard !allowPrivateTargets else { return nil }
        guard let host = url.host(percentEncoded: false)?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty else {
            throw Refusal(reason: "the webhook URL has no host")
        }
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        let address: SocketAddress
        if let literal = try? SocketAddress(ipAddress: host, port: port) {
            address = literal
        } else {
            do {
                // getaddrinfo blocks: it runs on NIO's thread pool, never on the async executors.
                address = try await NIOThreadPool.singleton.runIfActive { try SocketAddress.makeAddressResolvingHost(host, port: port) }
            } catch {
                throw Refusal(reason: "could not resolve the endpoint's host")
            }
        }
        guard let bytes = Self.addressBytes(address), let ip = address.ipAddress else {
            throw Refusal(reason: "the endpoint's address is not an IP address")
        }
        if let range = Self.forbiddenRange(bytes) {
            throw Refusal(reason: "the endpoint resolves to a \(range) address (\(ip)); set webhooks.allowPrivateTargets to allow it")
        }
        return ip
    }

    /// The name of the forbidden range an address (4 or 16 bytes) lies in, or nil when it may be called.
    static func forbiddenRange(_ bytes: [UInt8]) -> String? {
        if bytes.count == 4 { return forbiddenIPv4(bytes) }
        guard bytes.count == 16 else { return "unknown" }
        let prefix = Array(bytes[0..<12])
        if prefix == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] || prefix == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
            // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address inside.
            return forbiddenIPv4(Array(bytes[12..<16]))
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return forbiddenIPv4(Array(bytes[2..<6])) }  // 6to4 carries one too
        if bytes[0..<15].allSatisfy({ $0 == 0 }) { return bytes[15] == 1 ? "loopback" : "unspecified" }
        if prefix.allSatisfy({ $0 == 0 }) { return forbiddenIPv4(Array(bytes[12..<16])) ?? "IPv4-compatible" }
        if bytes[0] & 0xFE == 0xFC { return "private (unique local)" }  // fc00::/7, AWS metadata fd00:ec2::254 too
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return "link-local" }
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0xC0 { return "site-local" }
        if bytes[0] == 0xFF { return "multicast" }
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x0D, bytes[3] == 0xB8 { return "documentation" }
        return nil
    }

    private static func forbiddenIPv4(_ b: [UInt8]) -> String? {
        switch (b[0], b[1]) {
        case (0, _): "unspecified"
        case (10, _), (172, 16...31), (192, 168): "private"
        case (127, _): "loopback"
        case (169, 254): "link-local (cloud metadata)"
        case (100, 64...127): "shared (carrier-grade NAT)"
        case (192, 0) where b[2] == 0 || b[2] == 2: "reserved"
        case (198, 18...19): "benchmarking"
        case (198, 51) where b[2] == 100: "documentation"
        case (203, 0) where b[2] == 113: "documentation"
        case (224...239, _): "multicast"
        case (240...255, _): "reserved"
        default: nil
        }
    }

    /// The address's bytes in network order, read from its fields (no pointers).
    static func addressBytes(_ address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            let value = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        case .v6(let v6):
            #if canImport(Glibc)
            let tuple = v6.address.sin6_addr.__in6_u.__u6_addr8
            #else
            let tuple = v6.address.sin6_addr.__u6_addr.__u6_addr8
            #endif
            return Mirror(reflecting: tuple).children.compactMap { $0.value as? UInt8 }
        default:
            return nil
        }
    }
}
