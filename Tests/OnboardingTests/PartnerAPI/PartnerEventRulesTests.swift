import Foundation
import GRDB
import Testing

@testable import Onboarding

/// The rules that make partners' events from a connection's change, and their bodies, without a database.
@Suite("Partner event rules")
struct PartnerEventRulesTests {
    static let connectedAt = Date(timeIntervalSince1970: 1_800_000_000)

    static func connection(partner: String? = "ptn_acme", status: ConnectionStatus = .active) -> ConnectionRecord {
        ConnectionRecord(
            id: 7,
            environment: "sandbox",
            merchantId: "ML-1",
            sealedAccessToken: "sb1.a",
            sealedRefreshToken: "sb1.r",
            tokenType: "bearer",
            expiresAt: nil,
            refreshTokenExpiresAt: nil,
            scopes: "MERCHANT_PROFILE_READ",
            shortLived: false,
            flow: .code,
            status: status,
            partnerId: partner,
            partnerReference: partner == nil ? nil : "ref-1",
            connectedAt: connectedAt,
            lastRefreshedAt: nil,
            lastCheckedAt: nil,
            revokedAt: nil,
            revokedBy: nil,
            refreshLeaseUntil: nil,
            refreshFailureCount: 0,
            lastError: nil,
            updatedAt: connectedAt,
            partnerLinkId: "lnk_1"
        )
    }

    static func types(_ before: ConnectionRecord?, _ after: ConnectionRecord) -> [String] {
        PartnerEvents.connectionChanged(before: before, after: after).map(\.type)
    }

    @Test func eachChangeMakesTheEventsTheTriggersMade() {
        let live = Self.connection()
        #expect(Self.types(nil, live) == ["connection.created"])
        #expect(Self.types(nil, Self.connection(partner: nil)).isEmpty, "a direct connection makes no event")

        var again = live
        again.connectedAt = live.connectedAt.addingTimeInterval(60)
        #expect(Self.types(live, again) == ["connection.reconnected"])
        var adopted = live
        adopted.partnerId = "ptn_other"
        #expect(Self.types(live, adopted) == ["connection.created"], "a partner new to the connection")
        var revoked = live
        revoked.revoke(by: "merchant", at: live.connectedAt.addingTimeInterval(30))
        #expect(Self.types(live, revoked) == ["connection.revoked"])
        #expect(Self.types(revoked, again) == ["connection.created"], "connected again after its revocation")
        #expect(Self.types(revoked, revoked).isEmpty, "revoked twice is one event")

        var refreshed = live
        refreshed.lastRefreshedAt = live.connectedAt.addingTimeInterval(3600)
        #expect(Self.types(live, refreshed) == ["connection.refreshed"])
        var failing = live
        failing.refreshFailureCount = 1
        failing.lastError = "square=transient"
        #expect(Self.types(live, failing) == ["connection.refresh_failed"])
        var recoveredByRefresh = refreshed
        recoveredByRefresh.refreshFailureCount = 0
        #expect(Self.types(failing, recoveredByRefresh) == ["connection.refreshed", "connection.recovered"])
        var needsReauth = live
        needsReauth.status = .needsReauth
        #expect(Self.types(live, needsReauth) == ["connection.refresh_failed"])
        #expect(Self.types(needsReauth, recoveredByRefresh) == ["connection.refreshed", "connection.recovered"])

        var checked = live
        checked.lastCheckedAt = live.connectedAt.addingTimeInterval(10)
        #expect(Self.types(live, checked).isEmpty, "a status check changes nothing a partner hears of")
    }

    @Test func bodiesCarryEveryFieldNullWhenAbsentAndTheLinkOnlyOnAConnect() throws {
        var revoked = Self.connection()
        revoked.revoke(by: "partner:ptn_acme", at: Self.connectedAt.addingTimeInterval(0.25))
        revoked.lastError = "revoked at Square"
        let event = try #require(PartnerEvents.connectionChanged(before: Self.connection(), after: revoked).first)
        #expect(event.id.wholeMatch(of: /msg_[0-9a-f]{32}/) != nil && event.partnerId == "ptn_acme" && event.merchantId == "ML-1")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: Any])
        #expect(body["type"] as? String == "connection.revoked")
        #expect(body["timestamp"] as? String == "2027-01-15T08:00:00.250Z")
        let data = try #require(body["data"] as? [String: Any])
        #expect(Set(data.keys) == ["merchant_id", "reference", "status", "environment", "revoked_by", "reason", "link_id"])
        #expect(data["revoked_by"] as? String == "partner:ptn_acme" && data["reason"] as? String == "revoked at Square")
        #expect(data["link_id"] is NSNull, "a revocation was caused by no link")
        let created = try #require(PartnerEvents.connectionChanged(before: nil, after: Self.connection()).first)
        let createdData = try #require(
            (try JSONSerialization.jsonObject(with: Data(created.payload.utf8)) as? [String: Any])?["data"] as? [String: Any]
        )
        #expect(createdData["link_id"] as? String == "lnk_1" && createdData["reason"] is NSNull && createdData["revoked_by"] is NSNull)
    }

    @Test func aLinkIsCompletedOnceItHasAResult() throws {
        var link = OnboardingLinkRecord(
            id: "lnk_1",
            partnerId: "ptn_acme",
            reference: "ref-1",
            scopes: "S",
            returnUrl: "https://acme.example/r",
            mode: .redirect,
            createdAt: Self.connectedAt,
            expiresAt: Self.connectedAt.addingTimeInterval(3600)
        )
        #expect(PartnerEvents.linkCompleted(link) == nil)
        link.usedAt = Self.connectedAt
        link.result = .denied
        let event = try #require(PartnerEvents.linkCompleted(link))
        #expect(event.type == "onboarding_link.completed" && event.merchantId == nil)
        let data = try #require((try JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: Any])?["data"] as? [String: Any])
        #expect(data["result"] as? String == "denied" && data["merchant_id"] is NSNull && data["error"] is NSNull)
    }

    @Test func noTriggerIsLeftInAMigratedDatabase() throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: Migrations.v14Name)
        // A database made before v15 by the migrations as they shipped: one of their triggers, as v12 made it.
        try queue.write { db in
            try db.execute(sql: #"CREATE TRIGGER "webhook_connection_revoked" AFTER UPDATE ON "connection" BEGIN SELECT 1; END;"#)
        }
        try Migrations.migrator.migrate(queue)
        let triggers = try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'") }
        #expect(triggers.isEmpty)
    }
}
