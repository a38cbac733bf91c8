import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Who a request comes from, for per-client limits: the peer's address, or behind a reverse proxy the address in the
/// one header the operator named (`http.clientAddressHeader`).
///
/// Without that setting every header is ignored, so a client cannot choose its own key. With it, the last address in
/// the header counts: a proxy appends the address it saw, and anything before it came from the client.
struct ClientAddress: Sendable {
    /// The header a trusted proxy sets, or nil to use the peer's address only.
    let trustedHeader: HTTPField.Name?

    /// The rate-limit key of `request`, which came from `peer`.
    func key(for request: Request, peer: SocketAddress?) -> String {
        if let trustedHeader, let value = request.headers[values: trustedHeader].last,
            let last = value.split(separator: ",").last, let key = Self.key(parsing: last)
        {
            return key
        }
        return peer.flatMap(Self.key(for:)) ?? "unknown"
    }

    /// An IPv4 address as it is; an IPv6 address by its /64 network (one subscriber gets a whole /64), an IPv4-mapped
    /// IPv6 address as IPv4; nil for anything else (a Unix socket).
    static func key(for address: SocketAddress) -> String? {
        switch address {
        case .v4: return address.ipAddress
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        case .unixDomainSocket: return nil
        }
    }

    /// The key of an address as a proxy writes it: `203.0.113.7`, `203.0.113.7:5123`, `2001:db8::1`, `[2001:db8::1]:443`.
    static func key(parsing text: Substring) -> String? {
        var host = text.trimmingCharacters(in: .whitespaces)[...]
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<end]
        } else if host.contains("."), let colon = host.firstIndex(of: ":"), host.filter({ $0 == ":" }).count == 1 {
            host = host[..<colon]
        }
        guard !host.isEmpty, host.utf8.count <= 64, let address = try? SocketAddress(ipAddress: String(host), port: 0) else {
            return nil
        }
        return key(for: address)
    }
}
