import Foundation
import Mustache
import Testing

@testable import Onboarding

/// The row models answer Mustache by name exactly as reflection would: every stored property, nothing else.
@Suite("Admin row models for Mustache")
struct AdminRowModelsTests {
    /// Each stored property (by Mirror) is what `child(named:)` returns for its name, and an unknown name is nil.
    static func expectAnswersLikeMirror(_ model: some MustacheParent, sourceLocation: SourceLocation = #_sourceLocation) {
        let children = Mirror(reflecting: model).children
        #expect(!children.isEmpty, sourceLocation: sourceLocation)
        for child in children {
            let label = child.label ?? ""
            // Mustache's Mirror lookup unwraps an optional: nil when absent, else what it holds.
            let reflected = Mirror(reflecting: child.value)
            let unwrapped: Any? = reflected.displayStyle == .optional ? reflected.children.first?.value : child.value
            let expected = unwrapped.map { String(describing: $0) } ?? "absent"
            let answered = model.child(named: label).map { String(describing: $0) } ?? "absent"
            #expect(answered == expected, "\(type(of: model)).\(label)", sourceLocation: sourceLocation)
        }
        #expect(model.child(named: "noSuchName") == nil, sourceLocation: sourceLocation)
    }

    @Test func everyRowModelAnswersEachStoredProperty() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var connection = ConnectionRecord(
            id: 1,
            environment: "sandbox",
            merchantId: "MLROW",
            tokenType: "bearer",
            expiresAt: now.addingTimeInterval(86_400),
            scopes: "PAYMENTS_READ ORDERS_READ",
            shortLived: false,
            flow: .pkce,
            status: .needsReauth,
            partnerReference: "shop-1",
            connectedAt: now.addingTimeInterval(-86_400),
            lastRefreshedAt: now.addingTimeInterval(-3600),
            refreshFailureCount: 1,
            lastError: "refused",
            updatedAt: now
        )
        let row = ConnectionRowModel(connection, now: now)
        Self.expectAnswersLikeMirror(row)
        Self.expectAnswersLikeMirror(row.badge)
        Self.expectAnswersLikeMirror(try #require(row.expires))
        connection.partnerReference = nil
        #expect(ConnectionRowModel(connection, now: now).child(named: "partnerReference") == nil, "a nil optional is absent")
        let event = AuditEventRecord(occurredAt: now, actor: .admin("jordan"), action: .tokenRefreshed, merchantId: "MLROW", detail: "d")
        Self.expectAnswersLikeMirror(AuditRowModel(event, now: now))
    }

    @Test(arguments: [(0, "0"), (7, "7"), (999, "999"), (1_000, "1,000"), (100_006, "100,006"), (1_234_567, "1,234,567"), (-4_200, "-4,200")])
    func countsAreShownWithThousandsSeparators(number: Int, shown: String) {
        #expect(AdminNumber.grouped(number) == shown)
    }
}
