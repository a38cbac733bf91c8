import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Onboarding

/// The viewer's dashboard pages: overview, connections list and CSV, audit log — through the router, signed in.
@Suite("Admin dashboard: overview, connections, CSV, audit")
struct AdminDashboardTests {
    typealias H = ServiceHarness

    /// Stores `count` connections MD000… through the merchant flow's own writes, six hours apart from half an hour ago, each
    /// token expiring 30 days after connecting; index % 4 is 1 → needs re-auth, 2 → revoked, 3 → expired.
    @discardableResult
    static func seed(_ h: ServiceHarness, count: Int, now: Date) async throws -> [ConnectionRecord] {
        let store = try h.database()
        for index in 0..<count {
            let merchant = String(format: "MD%03d", index)
            let at = now.addingTimeInterval(TimeInterval(-index * 6 * 3600 - 1800))
            var attempt = StoreContractTests.authorization("state-\(merchant)")
            (attempt.createdAt, attempt.expiresAt) = (at, at.addingTimeInterval(600))
            try await store.beginAuthorization(attempt, audit: AuditEventRecord(occurredAt: at, actor: .merchant, action: .authorizationStarted))
            let saved = try await store.saveConnection(
                StoreContractTests.grant(merchant, access: "sb1.k.access-\(merchant)", at: at, environment: H.environment),
                stateHash: "state-\(merchant)",
                session: MerchantSessionSeed(hash: "hash-\(merchant)", csrfToken: "csrf-\(merchant)", expiresAt: at.addingTimeInterval(3600)),
                audit: AuditEventRecord(occurredAt: at, actor: .merchant, action: .connectionConnected, merchantId: merchant)
            )
            let id = saved.connection.id
            switch index % 4 {
            case 1:
                let audit = AuditEventRecord(occurredAt: at, actor: .system, action: .tokenNeedsReauth, merchantId: merchant, detail: "refused")
                try await store.markNeedsReauth(connectionId: id, reason: "refused", now: at, audit: audit)
            case 2:
                let audit = AuditEventRecord(occurredAt: at, actor: .merchant, action: .connectionRevoked, merchantId: merchant)
                _ = try await store.markRevoked(connectionId: id, by: "merchant", now: at, audit: audit)
            case 3:
                let audit = AuditEventRecord(occurredAt: at, actor: .system, action: .tokenExpired, merchantId: merchant)
                try await store.markAccessTokenExpired(connectionId: id, now: at, audit: audit)
            default: break
            }
        }
        return try await store.allConnections()
    }

    /// Signs a viewer in on a fresh browser.
    static func viewer(_ h: ServiceHarness, on browser: Browser) async throws -> Browser {
        try await h.addAdmin("vera", role: .viewer)
        return try await AdminRealmTests.signedIn("vera", on: browser)
    }

    static func merchants(in html: String) -> [String] {
        html.matches(of: /class="merchant" href="[^"]*">([^<]+)<\/a>/).map { String($0.output.1) }
    }

    static func link(_ id: String, in html: String) -> String? {
        html.firstMatch(of: try! Regex(#"href="([^"]+)" id="\#(id)""#))
            .map { String($0.output[1].substring ?? "").replacingOccurrences(of: "&amp;", with: "&") }
    }

    /// Every page of the connections list from `start`, following "Next page" to the end.
    static func allPages(_ browser: Browser, from start: String) async throws -> [String] {
        var uri: String? = start
        var seen: [String] = []
        var pages = 0
        var totals: Set<String> = []
        while let next = uri, pages < 50 {
            let page = try await browser.get(next)
            #expect(page.status == .ok, "\(next)")
            let rows = merchants(in: page.html)
            if let range = page.html.firstMatch(of: /id="list-range" role="status">([0-9,]+)–([0-9,]+) of ([0-9,]+)</)?.output {
                // "51–100 of 120": this page's rows, counted from the first page's first row.
                #expect(Int(range.1.replacing(",", with: "")) == seen.count + 1 && Int(range.2.replacing(",", with: "")) == seen.count + rows.count)
                totals.insert(String(range.3))
            } else {
                #expect(rows.isEmpty, "a page with rows says which: \(next)")
            }
            seen += rows
            uri = link("next-page", in: page.html)
            pages += 1
        }
        #expect(totals.count <= 1 && totals.allSatisfy { Int($0.replacing(",", with: "")) == seen.count }, "the total is every row: \(totals)")
        return seen
    }

    @Test func theOverviewCountsMatchTheData() async throws {
        try await H.run { h in
            let now = h.clock.appClock.now()
            let all = try await Self.seed(h, count: 120, now: now)
            let store = try h.database()
            for hoursAgo in [1.0, 5, 23, 49] {
                try await store.appendAudit(
                    AuditEventRecord(
                        occurredAt: now.addingTimeInterval(-hoursAgo * 3600),
                        actor: .system,
                        action: .tokenRefreshFailed,
                        merchantId: "MD000"
                    )
                )
            }
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.viewer(h, on: browser)
                let page = try await vera.get("/admin")
                #expect(page.status == .ok)
                for status in ConnectionStatus.allCases {
                    let shown = page.html.firstMatch(
                        of: try Regex(
                            #"href="/admin/connections\?status=\#(status.rawValue)" id="count-\#(status.rawValue)"><span class="tile-number">(\d+)<"#
                        )
                    )
                    #expect(shown.flatMap { Int($0.output[1].substring ?? "") } == all.filter { $0.status == status }.count, "\(status)")
                }
                let expiring = all.filter { $0.status == .active && $0.expiresAt! >= now && $0.expiresAt! < now.addingTimeInterval(7 * 86_400) }
                #expect(!expiring.isEmpty)
                #expect(page.html.contains(#"<span class="tile-number" id="expiring-soon">\#(expiring.count)</span>"#))
                #expect(page.html.contains(#"<span class="tile-number" id="refresh-failures">3</span>"#))
                let reauth = try #require(page.html.firstMatch(of: /<ul class="plain" id="needs-reauth">(.*?)<\/ul>/.dotMatchesNewlines()))
                #expect(reauth.output.1.matches(of: /<li><a href/).count == 10, "the first ten")
                #expect(page.html.contains(#"href="/admin/connections?status=needs_reauth""#), "and a link to all of them")
                let events = try #require(page.html.firstMatch(of: /<table class="data" id="recent-events">(.*?)<\/table>/.dotMatchesNewlines()))
                #expect(events.output.1.matches(of: /<time datetime=/).count == 20)
                #expect(events.output.1.contains("refresh_failed"), "the newest events first")
                #expect(page.html.contains(#"<strong id="admin-name">vera</strong>"#) && page.html.contains(#"id="sign-out""#))
            }
        }
    }

    @Test func theListFollowsItsCursorToTheEndInEachOrderWithoutDuplicates() async throws {
        try await H.run { h in
            let now = h.clock.appClock.now()
            let all = try await Self.seed(h, count: 120, now: now)
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.viewer(h, on: browser)
                let recent = try await Self.allPages(vera, from: "/admin/connections")
                #expect(recent == all.sorted { $0.connectedAt > $1.connectedAt }.map(\.merchantId))
                let byMerchant = try await Self.allPages(vera, from: "/admin/connections?sort=merchant")
                #expect(byMerchant == all.map(\.merchantId).sorted())
                let byExpiry = try await Self.allPages(vera, from: "/admin/connections?sort=expiry")
                #expect(Set(byExpiry).count == 120 && byExpiry.count == 120)
                let withToken = all.filter { $0.expiresAt != nil }.sorted { ($0.expiresAt!, $0.id) < ($1.expiresAt!, $1.id) }
                #expect(Array(byExpiry.prefix(withToken.count)) == withToken.map(\.merchantId))

                let reauth = try await Self.allPages(vera, from: "/admin/connections?status=needs_reauth&sort=merchant")
                #expect(reauth == all.filter { $0.status == .needsReauth }.map(\.merchantId).sorted())
                let searched = try await Self.allPages(vera, from: "/admin/connections?q=MD01&status=&sort=recent")
                #expect(Set(searched) == Set((10...19).map { String(format: "MD%03d", $0) }))

                let first = try await vera.get("/admin/connections?status=revoked")
                #expect(first.html.contains(#"<option value="revoked" selected>revoked</option>"#))
                #expect(first.html.contains(#"<span class="badge off">revoked</span>"#))
                #expect(first.html.contains(#"href="/admin/connections/MD002""#))
                #expect(!first.html.contains("next-page"), "30 revoked fit on one page")
                #expect(first.html.contains(#"id="list-range" role="status">1–30 of 30<"#), "the total of the filter")
                let active = try await vera.get("/admin/connections?status=active&sort=merchant")
                #expect(active.html.contains(#"<time datetime="#) && active.html.contains("days"))
            }
        }
    }

    @Test(arguments: ["' OR 1=1 --", "<script>alert(1)</script>", "MD%", "MD_"])
    func aSearchIsShownEscapedAndMatchedLiterally(search: String) async throws {
        try await H.run { h in
            try await Self.seed(h, count: 8, now: h.clock.appClock.now())
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.viewer(h, on: browser)
                let page = try await vera.get("/admin/connections?q=" + AdminPaths.encode(search))
                #expect(page.status == .ok)
                #expect(Self.merchants(in: page.html).isEmpty)
                #expect(page.html.contains(#"id="no-connections""#))
                #expect(!page.html.contains("<script>"))
                let escaped = search.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&#39;")
                #expect(page.html.contains(#"name="q" type="search" value="\#(escaped)""#), "shown back in the form, escaped")
            }
        }
    }

    @Test func aMerchantIdIsFoundInAnyCase() async throws {
        try await H.run { h in
            try await Self.seed(h, count: 8, now: h.clock.appClock.now())
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.viewer(h, on: browser)
                let lower = Self.merchants(in: try await vera.get("/admin/connections?q=md00").html)
                let upper = Self.merchants(in: try await vera.get("/admin/connections?q=MD00").html)
                #expect(!lower.isEmpty && lower == upper)
            }
        }
    }

    @Test func aPartnerReferenceIsSearchedToo() async throws {
        try await H.run { h in
            try await Self.seed(h, count: 8, now: h.clock.appClock.now())
            try await h.rawDatabase().write {
                try $0.execute(sql: "UPDATE connection SET partnerReference = 'acme-42' WHERE merchantId = 'MD004'")
                try $0.execute(sql: "UPDATE connection SET partnerReference = 'shop north+1' WHERE merchantId = 'MD005'")
            }
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.viewer(h, on: browser)
                let page = try await vera.get("/admin/connections?q=acme")
                #expect(Self.merchants(in: page.html) == ["MD004"])
                #expect(page.html.contains("<td>acme-42</td>"))
                let spaced = try await vera.get("/admin/connections?q=shop+north%2B")
                #expect(Self.merchants(in: spaced.html) == ["MD005"], "a form's + is a space, %2B a plus")
                #expect(spaced.html.contains(#"value="shop north+""#))
                #expect(Self.merchants(in: try await vera.get("/admin/connections?q=shop%2Bnorth").html).isEmpty)
            }
        }
    }

    @Test(arguments: [
        "/admin/connections?status=bogus", "/admin/connections?sort=sideways", "/admin/connections?after=garbage",
        "/admin/connections?after=12.%21%21", "/admin/connections?q=" + String(repeating: "a", count: 65),
        "/admin/connections.csv?status=bogus", "/admin/audit?actor=nobody", "/admin/audit?action=token.nope",
        "/admin/audit?before=abc", "/admin/audit?before=-1", "/admin/audit?merchant=" + String(repeating: "M", count: 65), "/admin/connections?q=%ZZ",
    ])
    func aBadQueryValueGetsThe400Page(uri: String) async throws {
        try await H.run { h in
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.viewer(h, on: browser)
                let page = try await vera.get(uri)
                #expect(page.status == .badRequest)
                #expect(page.html.contains("That filter is not valid") && page.html.contains(#"id="back-to-admin""#))
            }
        }
    }

    @Test func theCSVHasEveryRowQuotedAndDefused() async throws {
        try await H.run { h in
            let all = try await Self.seed(h, count: 501, now: h.clock.appClock.now())
            try await h.rawDatabase().write { db in
                try db.execute(sql: #"UPDATE connection SET partnerReference = '=HYPERLINK("http://evil.example")' WHERE merchantId = 'MD001'"#)
                try db.execute(sql: "UPDATE connection SET partnerReference = 'shop, north' WHERE merchantId = 'MD002'")
                try db.execute(sql: "UPDATE connection SET partnerReference = '@sum' WHERE merchantId = 'MD003'")
            }
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.viewer(h, on: browser)
                let csv = try await vera.get("/admin/connections.csv?sort=merchant")
                #expect(csv.status == .ok)
                #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(csv.headers[.contentDisposition] == #"attachment; filename="connections.csv""#)
                let lines = csv.html.components(separatedBy: "\r\n").dropLast()
                #expect(
                    lines.first == "merchant_id,partner_reference,status,scopes,expires_at,last_refreshed_at,last_checked_at,connected_at"
                )
                #expect(lines.count == 502, "a header and one line per row, past the 500 of one batch")
                #expect(Set(lines.dropFirst().map { $0.prefix(5) }).count == 501, "no row twice")
                let byMerchant = Dictionary(uniqueKeysWithValues: lines.dropFirst().map { (String($0.prefix(5)), $0) })
                #expect(byMerchant["MD001"]?.hasPrefix(#"MD001,"'=HYPERLINK(""http://evil.example"")",needs_reauth,"#) == true)
                #expect(byMerchant["MD002"]?.hasPrefix(#"MD002,"shop, north",revoked,"#) == true)
                #expect(byMerchant["MD003"]?.hasPrefix(#"MD003,"'@sum",expired,"#) == true)
                let first = try #require(all.first { $0.merchantId == "MD000" })
                let line = try #require(byMerchant["MD000"])
                #expect(line.hasPrefix("MD000,,active,MERCHANT_PROFILE_READ,\(first.expiresAt!.formatted(.iso8601)),"))
                #expect(line.hasSuffix(",\(first.connectedAt.formatted(.iso8601))") && line.components(separatedBy: ",").count == 8)

                let filtered = try await vera.get("/admin/connections.csv?status=needs_reauth&q=MD00")
                #expect(
                    filtered.html.components(separatedBy: "\r\n").dropLast().dropFirst().map { String($0.prefix(5)) } == ["MD001", "MD005", "MD009"]
                )
                let exports = try await h.database().auditEvents().filter { $0.action == .adminExported }
                #expect(exports.map(\.actor) == [.admin("vera"), .admin("vera")], "every export is on the record")
                #expect(
                    exports.map(\.detail) == [
                        "export=connections q= status=any sort=merchant rows=501",
                        "export=connections q=MD00 status=needs_reauth sort=recent rows=3",
                    ]
                )
            }
        }
    }

    static func auditRows(in html: String) -> [(id: Int64, actor: String, action: String)] {
        html.matches(of: /<tr data-id="(\d+)"><td><time[^>]*>[^<]*<\/time><\/td><td>([^<]*)<\/td><td><code>([^<]*)<\/code>/).map {
            (Int64($0.output.1)!, String($0.output.2), String($0.output.3))
        }
    }

    @Test func theAuditLogFiltersAndPagesNewestFirst() async throws {
        try await H.run { h in
            try await Self.seed(h, count: 120, now: h.clock.appClock.now())
            try await h.withAdminPages { browser, _ in
                let vera = try await Self.viewer(h, on: browser)
                var uri: String? = "/admin/audit?action=connection.connected"
                var rows: [(id: Int64, actor: String, action: String)] = []
                var pages: [Int] = []
                while let next = uri, pages.count < 10 {
                    let page = try await vera.get(next)
                    #expect(page.status == .ok)
                    let found = Self.auditRows(in: page.html)
                    rows += found
                    pages.append(found.count)
                    uri = Self.link("older-page", in: page.html)
                }
                #expect(pages == [50, 50, 20])
                #expect(rows.allSatisfy { $0.action == "connection.connected" && $0.actor == "merchant" })
                #expect(rows.map(\.id) == rows.map(\.id).sorted(by: >) && Set(rows.map(\.id)).count == 120)

                let merchant = Self.auditRows(in: try await vera.get("/admin/audit?merchant=MD005").html)
                #expect(merchant.map(\.action) == ["token.needs_reauth", "connection.connected"])
                let signIns = try await vera.get("/admin/audit?actor=admin%3Avera")
                #expect(Self.auditRows(in: signIns.html).map(\.action) == ["admin.signed_in"])
                #expect(signIns.html.contains(#"value="admin:vera""#))
                let both = Self.auditRows(in: try await vera.get("/admin/audit?actor=system&action=token.expired").html)
                #expect(both.count == 30 && both.allSatisfy { $0.action == "token.expired" && $0.actor == "system" })
                let page = try await vera.get("/admin/audit")
                #expect(page.html.contains(#"<option value="token.refresh_failed">token.refresh_failed</option>"#))
            }
        }
    }

    @Test(arguments: ["/admin", "/admin/connections?status=active", "/admin/connections.csv", "/admin/audit?action=token.expired"])
    func aSignedOutBrowserIsSentToSignIn(uri: String) async throws {
        try await H.run { h in
            try await h.withAdminPages { browser, _ in
                let page = try await browser.get(uri)
                #expect(page.status == .seeOther)
                let location = try #require(page.headers[.location])
                #expect(location == "/admin/login" || location.hasPrefix("/admin/login?next=/admin/"))
            }
        }
    }
}
