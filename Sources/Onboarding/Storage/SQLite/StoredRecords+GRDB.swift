import Foundation
import GRDB

// The SQLite engine's reading of the engine-neutral records and stored values: GRDB's record protocols, table and
// column names, and how each value is stored. Nothing outside `Storage/SQLite` sees these.

extension AdminSessionRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "adminSession"

    enum Columns {
        static let sessionHash = Column("sessionHash")
        static let adminUserId = Column("adminUserId")
        static let idleExpiresAt = Column("idleExpiresAt")
        static let expiresAt = Column("expiresAt")
    }
}

extension AdminUserRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "adminUser"

    enum Columns {
        static let id = Column("id")
        static let name = Column("name")
        static let role = Column("role")
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension AuditEventRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "auditEvent"

    enum Columns {
        static let id = Column("id")
        static let action = Column("action")
        static let merchantId = Column("merchantId")
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension AuthorizationRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "authorization"

    enum Columns {
        static let stateHash = Column("stateHash")
        static let consumedAt = Column("consumedAt")
        static let outcome = Column("outcome")
    }

    // Read by name, as `ConnectionRecord` is: every callback reads one (`RecordDecodingTests`).
    init(row: Row) throws {
        stateHash = try row.decode(forColumn: "stateHash")
        sealedCodeVerifier = try row.decode(forColumn: "sealedCodeVerifier")
        scopes = try row.decode(forColumn: "scopes")
        flow = try row.decode(forColumn: "flow")
        partnerLinkId = try row.decode(forColumn: "partnerLinkId")
        returnUrl = try row.decode(forColumn: "returnUrl")
        browserBindingHash = try row.decode(forColumn: "browserBindingHash")
        createdAt = try row.decode(forColumn: "createdAt")
        expiresAt = try row.decode(forColumn: "expiresAt")
        consumedAt = try row.decode(forColumn: "consumedAt")
        outcome = try row.decode(forColumn: "outcome")
        merchantId = try row.decode(forColumn: "merchantId")
    }
}

extension ConnectionRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "connection"

    enum Columns {
        static let id = Column("id")
        static let environment = Column("environment")
        static let merchantId = Column("merchantId")
        static let status = Column("status")
        static let sealedRefreshToken = Column("sealedRefreshToken")
        static let sealedAccessToken = Column("sealedAccessToken")
        static let expiresAt = Column("expiresAt")
        static let refreshTokenExpiresAt = Column("refreshTokenExpiresAt")
        static let connectedAt = Column("connectedAt")
        static let lastRefreshedAt = Column("lastRefreshedAt")
        static let lastCheckedAt = Column("lastCheckedAt")
        static let refreshLeaseUntil = Column("refreshLeaseUntil")
        static let nextRefreshAt = Column("nextRefreshAt")
    }

    // Every connect and list page decodes these: reading the columns by name costs a fraction of `Decodable`'s
    // keyed container (perf: 3.7 % of a callback). `RecordDecodingTests` checks it reads back what `Encodable` stored.
    init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        environment = try row.decode(forColumn: "environment")
        merchantId = try row.decode(forColumn: "merchantId")
        sealedAccessToken = try row.decode(forColumn: "sealedAccessToken")
        sealedRefreshToken = try row.decode(forColumn: "sealedRefreshToken")
        tokenType = try row.decode(forColumn: "tokenType")
        expiresAt = try row.decode(forColumn: "expiresAt")
        refreshTokenExpiresAt = try row.decode(forColumn: "refreshTokenExpiresAt")
        scopes = try row.decode(forColumn: "scopes")
        shortLived = try row.decode(forColumn: "shortLived")
        flow = try row.decode(forColumn: "flow")
        status = try row.decode(forColumn: "status")
        partnerId = try row.decode(forColumn: "partnerId")
        partnerReference = try row.decode(forColumn: "partnerReference")
        connectedAt = try row.decode(forColumn: "connectedAt")
        lastRefreshedAt = try row.decode(forColumn: "lastRefreshedAt")
        lastCheckedAt = try row.decode(forColumn: "lastCheckedAt")
        revokedAt = try row.decode(forColumn: "revokedAt")
        revokedBy = try row.decode(forColumn: "revokedBy")
        refreshLeaseUntil = try row.decode(forColumn: "refreshLeaseUntil")
        refreshFailureCount = try row.decode(forColumn: "refreshFailureCount")
        lastError = try row.decode(forColumn: "lastError")
        updatedAt = try row.decode(forColumn: "updatedAt")
        refreshLeaseOwner = try row.decode(forColumn: "refreshLeaseOwner")
        nextRefreshAt = try row.decode(forColumn: "nextRefreshAt")
        revokeClaimOwner = try row.decode(forColumn: "revokeClaimOwner")
        revokeClaimUntil = try row.decode(forColumn: "revokeClaimUntil")
        partnerLinkId = try row.decode(forColumn: "partnerLinkId")
    }
}

extension IdempotencyKeyRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "idempotencyKey"

    enum Columns {
        static let partnerId = Column("partnerId")
        static let key = Column("key")
        static let createdAt = Column("createdAt")
    }
}

extension MerchantSessionRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "merchantSession"

    enum Columns {
        static let sessionHash = Column("sessionHash")
    }
}

extension OnboardingLinkRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "onboardingLink"

    enum Columns {
        static let id = Column("id")
        static let partnerId = Column("partnerId")
        static let usedAt = Column("usedAt")
        static let createdAt = Column("createdAt")
    }
}

extension LinkResult: DatabaseValueConvertible {}

extension LinkMode: DatabaseValueConvertible {}

extension PartnerApiKeyRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "partnerApiKey"

    enum Columns {
        static let id = Column("id")
        static let partnerId = Column("partnerId")
        static let prefix = Column("prefix")
        static let revokedAt = Column("revokedAt")
        static let lastUsedAt = Column("lastUsedAt")
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension PartnerRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "partner"

    enum Columns {
        static let id = Column("id")
        static let name = Column("name")
    }
}

extension SquareEventRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "squareEvent"
}

extension WebhookDeliveryRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "webhookDelivery"

    enum Columns {
        static let id = Column("id")
        static let partnerId = Column("partnerId")
        static let createdAt = Column("createdAt")
        static let nextAttemptAt = Column("nextAttemptAt")
        static let deliveredAt = Column("deliveredAt")
        static let failedAt = Column("failedAt")
    }
}

extension ConnectionStatus: DatabaseValueConvertible {}

extension OAuthFlow: DatabaseValueConvertible {}

extension AuthorizationOutcome: DatabaseValueConvertible {}

extension AuditAction: DatabaseValueConvertible {}

extension AdminRole: DatabaseValueConvertible {}

extension AuditActor: DatabaseValueConvertible {
    var databaseValue: DatabaseValue { description.databaseValue }

    static func fromDatabaseValue(_ value: DatabaseValue) -> AuditActor? {
        String.fromDatabaseValue(value).flatMap(AuditActor.init)
    }
}
