import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Onboarding

/// The audit log as an operator works with it: days and who as filters, newest first by time, and the CSV export
/// that is itself on the record.
@Suite("Admin: audit log filters and export")
struct AdminAuditTests {
    typealias H = ServiceHarness

    static func day(_ date: Date) -> String { date.formatted(.iso8601.year().month().day()) }

    /// Every row id of the audit log from `start`, following "Older" to the end.
    static func allRows(_ browser: Browser, from start: String) async throws -> [Int64] {
        var uri: String? = start
        var ids: [Int64] = []
        for _ in 0..<20 {
            guard let next = uri else { return ids }
            let page = try await browser.get(next)
            #expect(page.status == .ok, "\(next)")
            ids += AdminDashboardTests.auditRows(in: page.html).map(\.id)
            uri = AdminDashboardTests.link("older-page", in: page.html)
        }
        Issue.record("the pages did not end")
        return ids
    }

    @Test func daysSelectEventsByTheirTimeNewestFirstAcrossPagesImportedOnesIncluded() async throws {
        try await H.run { h in
            let now = h.clock.appClock.now()
            try await AdminDashboardTests.seed(h, count: 120, now: now)
            let store = try h.database()
            // Written last, dated 12 days ago: an import keeps the merchant's own connection time.
            let imported = AuditEventRecord(
                occurredAt: now.addingTimeInterval(-12 * 86_400),
                actor: .cli,
                action: .connectionConnected,
                merchantId: "MLIMPORTED",
                detail: "imported; status=active flow=pkce"
            )
            try await store.appendAudit(imported)
            try await h.withAdminPages { browser, _ in
                let vera = try await AdminDashboardTests.viewer(h, on: browser)
                let (from, to) = (Self.day(now.addingTimeInterval(-20 * 86_400)), Self.day(now.addingTimeInterval(-86_400)))
                let start = try Date(from + "T00:00:00Z", strategy: .iso8601)
                let end = try Date(to + "T00:00:00Z", strategy: .iso8601).addingTimeInterval(86_400)
                let expected = try await store.auditEvents().filter { $0.occurredAt >= start && $0.occurredAt < end }
                    .sorted { ($0.occurredAt, $0.id ?? 0) > ($1.occurredAt, $1.id ?? 0) }.compactMap(\.id)
                #expect(expected.count > 50, "more than a page")
                let shown = try await Self.allRows(vera, from: "/admin/audit?from=\(from)&to=\(to)")
                #expect(shown == expected)
                let page = try await vera.get("/admin/audit?from=\(from)&to=\(to)")
                #expect(page.html.contains(#"id="from" name="from" type="date" value="\#(from)""#))
                #expect(page.html.contains(#"id="to" name="to" type="date" value="\#(to)""#))

                let oneDay = Self.day(now.addingTimeInterval(-12 * 86_400))
                let imports = try await vera.get("/admin/audit?from=\(oneDay)&to=\(oneDay)&actor=cli")
                #expect(AdminDashboardTests.auditRows(in: imports.html).map(\.action) == ["connection.connected"])
            }
        }
    }

    @Test func whoIsChosenFromEveryAdminAndPartnerAndAGoneOneStaysChosen() async throws {
        try await H.run { h in
            let partner = try await TestPartner.add(h)
            try await h.addAdmin("olga", role: .owner)
            try await h.withAdminPages { browser, _ in
                let vera = try await AdminDashboardTests.viewer(h, on: browser)
                let page = try await vera.get("/admin/audit")
                for option in [
                    #"<option value="" selected>Anyone</option>"#, #"<option value="admin:olga">admin olga</option>"#,
                    #"<option value="admin:vera">admin vera</option>"#, #"<option value="partner:\#(partner.record.id)">partner acme</option>"#,
                    #"<option value="cli">command line</option>"#,
                ] {
                    #expect(page.html.contains(option), "\(option)")
                }
                let olga = try await vera.get("/admin/audit?actor=admin%3Aolga")
                #expect(olga.html.contains(#"<option value="admin:olga" selected>admin olga</option>"#))
                let gone = try await vera.get("/admin/audit?actor=admin%3Aformer")
                #expect(gone.status == .ok && gone.html.contains(#"<option value="admin:former" selected>admin:former</option>"#))
            }
        }
    }

    @Test func theExportHoldsWhatTheFiltersMatchAndIsOnTheRecord() async throws {
        try await H.run { h in
            let now = h.clock.appClock.now()
            try await AdminDashboardTests.seed(h, count: 220, now: now)
            try await h.withAdminPages { browser, _ in
                let vera = try await AdminDashboardTests.viewer(h, on: browser)
                let page = try await vera.get("/admin/audit?action=token.expired")
                let link = try #require(AdminDashboardTests.link("export-csv", in: page.html))
                #expect(link == "/admin/audit.csv?action=token.expired")
                let csv = try await vera.get(link)
                #expect(csv.status == .ok && csv.headers[.contentDisposition] == #"attachment; filename="audit.csv""#)
                let lines = csv.html.components(separatedBy: "\r\n").dropLast()
                #expect(lines.first == "id,occurred_at,actor,action,merchant_id,detail")
                #expect(lines.count == 56 && lines.dropFirst().allSatisfy { $0.contains(",system,token.expired,MD") })

                let before = try await h.database().auditEvents()
                #expect(before.count > AdminAuditController.exportBatchSize)
                let everything = try await vera.get("/admin/audit.csv")
                let ids = everything.html.components(separatedBy: "\r\n").dropLast().dropFirst().map { $0.prefix { $0 != "," } }
                #expect(ids == before.compactMap(\.id).sorted(by: >).map { Substring(String($0)) }, "every event once, newest first")
                let exports = try await h.database().auditEvents().filter { $0.action == .adminExported }
                #expect(exports.map(\.actor) == [.admin("vera"), .admin("vera")])
                #expect(exports.map(\.detail) == ["export=audit action=token.expired rows=55", "export=audit all rows=\(before.count)"])
            }
        }
    }

    @Test(arguments: [
        "/admin/audit?from=2026-13-01", "/admin/audit?to=yesterday", "/admin/audit?from=2026-12-07&to=2026-12-01",
        "/admin/audit.csv?from=2026-02-30",
    ])
    func aDayThatIsNotOneIsRefusedWithTheReason(uri: String) async throws {
        try await H.run { h in
            try await h.withAdminPages { browser, _ in
                let vera = try await AdminDashboardTests.viewer(h, on: browser)
                let refused = try await vera.get(uri)
                #expect(refused.status == .badRequest && refused.html.contains("That filter is not valid"))
                #expect(refused.html.contains("YYYY-MM-DD") || refused.html.contains("The To day is before the From day."))
            }
        }
    }
}
