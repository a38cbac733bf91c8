import Foundation
import GRDB
import Testing

@testable import Onboarding

/// The records read by column name read back exactly what their `Encodable` side stored, every field set or none.
@Suite("Records read by column name")
struct RecordDecodingTests {
    static let moment = Date(timeIntervalSince1970: 1_790_000_000.5)  // milliseconds survive the text format exactly

    static let everyFieldSet = ConnectionRecord(
        id: 41,
        environment: "sandbox",
        merchantId: "MLFULL",
        sealedAccessToken: "sb1.k.access",
        sealedRefreshToken: "sb1.k.refresh",
        tokenType: "bearer",
        expiresAt: moment.addingTimeInterval(1),
        refreshTokenExpiresAt: moment.addingTimeInterval(2),
        scopes: "PAYMENTS_READ ORDERS_WRITE",
        shortLived: true,
        flow: .code,
        status: .needsReauth,
        partnerId: nil,
        partnerReference: "shop-1",
        connectedAt: moment.addingTimeInterval(3),
        lastRefreshedAt: moment.addingTimeInterval(4),
        lastCheckedAt: moment.addingTimeInterval(5),
        revokedAt: moment.addingTimeInterval(6),
        revokedBy: "admin:ops",
        refreshLeaseUntil: moment.addingTimeInterval(7),
        refreshFailureCount: 3,
        lastError: "Square said no",
        updatedAt: moment.addingTimeInterval(8),
        refreshLeaseOwner: "worker-1",
        nextRefreshAt: moment.addingTimeInterval(9),
        revokeClaimOwner: "disconnect-1",
        revokeClaimUntil: moment.addingTimeInterval(10)
    )

    static let noOptionalSet = ConnectionRecord(
        id: 42,
        environment: "production",
        merchantId: "MLBARE",
        sealedAccessToken: nil,
        sealedRefreshToken: nil,
        tokenType: "bearer",
        expiresAt: nil,
        refreshTokenExpiresAt: nil,
        scopes: "",
        shortLived: false,
        flow: .pkce,
        status: .revoked,
        partnerId: nil,
        partnerReference: nil,
        connectedAt: moment,
        lastRefreshedAt: nil,
        lastCheckedAt: nil,
        revokedAt: nil,
        revokedBy: nil,
        refreshLeaseUntil: nil,
        refreshFailureCount: 0,
        lastError: nil,
        updatedAt: moment
    )

    @Test(arguments: [everyFieldSet, noOptionalSet])
    func aConnectionReadsBackWhatWasStored(_ stored: ConnectionRecord) async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        let (inserted, fetched) = try await queue.write { db in
            try stored.insert(db)
            return (stored, try ConnectionRecord.fetchOne(db, sql: "SELECT * FROM connection WHERE id = ?", arguments: [stored.id]))
        }
        #expect(fetched == inserted)
    }

    @Test(arguments: [true, false])
    func anAuthorizationReadsBackWhatWasStored(everyFieldSet: Bool) async throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        let stored = AuthorizationRecord(
            stateHash: "hash-\(everyFieldSet)",
            sealedCodeVerifier: "sb1.k.verifier",
            scopes: "PAYMENTS_READ",
            flow: .pkce,
            partnerLinkId: nil,
            returnUrl: everyFieldSet ? "https://partner.example/done" : nil,
            browserBindingHash: "binding",
            createdAt: Self.moment,
            expiresAt: Self.moment.addingTimeInterval(600),
            consumedAt: everyFieldSet ? Self.moment.addingTimeInterval(30) : nil,
            outcome: everyFieldSet ? .connected : nil,
            merchantId: everyFieldSet ? "MLFULL" : nil
        )
        let fetched = try await queue.write { db in
            try stored.insert(db)
            return try AuthorizationRecord.fetchOne(db, key: stored.stateHash)
        }
        #expect(fetched == stored)
    }
}
