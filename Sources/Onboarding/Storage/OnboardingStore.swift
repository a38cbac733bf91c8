import Foundation

/// Everything the domain keeps, behind one interface: SQLite today (`AppDatabase`), PostgreSQL later.
///
/// Each write is one transaction; each method is named after what it means, not how it is stored.
/// `Tests/OnboardingTests/StoreContractTests.swift` is the contract every engine must pass.
protocol OnboardingStore: PartnerStore, SignInStore {
    // MARK: Authorizations

    /// Records a new authorization attempt and its audit event.
    func beginAuthorization(_ authorization: AuthorizationRecord, audit: AuditEventRecord) async throws(StorageError)
    /// Checks a callback's state and, when it is good, marks it consumed in the same transaction.
    func consumeAuthorization(stateHash: String, browserBindingHash: String?, now: Date) async throws(StorageError) -> StateCheck
    /// Records how a consumed authorization ended when it produced no connection, with its audit event; the
    /// partner's link it started from, if any and still unfinished, ends with `link`'s result at the audit's time.
    func closeAuthorization(
        stateHash: String,
        outcome: AuthorizationOutcome,
        link: LinkCompletion?,
        audit: AuditEventRecord
    ) async throws(StorageError)
    /// One authorization by its state's hash.
    func authorization(stateHash: String) async throws(StorageError) -> AuthorizationRecord?

    // MARK: Connections and merchant sessions

    /// Stores a fresh grant: upserts the connection, closes the authorization, opens a merchant session, audits; a
    /// partner's link is marked used and names the connection's partner (unless another partner has it already).
    func saveConnection(
        _ grant: ConnectionGrant,
        stateHash: String,
        session: MerchantSessionSeed,
        audit: AuditEventRecord
    ) async throws(StorageError) -> SavedConnection
    /// The session a browser cookie's hash names, with its connection, while the session lasts.
    func merchantSession(hash: String, now: Date) async throws(StorageError) -> MerchantSession?
    /// Claims the right to revoke a connection at Square, so one caller talks to Square and the others wait for it.
    func claimRevocation(connectionId: Int64, owner: String, until: Date, now: Date) async throws(StorageError) -> RevocationClaim
    /// Gives up a revocation claim without revoking (Square did not confirm); only the owner's claim is released.
    func releaseRevocationClaim(connectionId: Int64, owner: String) async throws(StorageError)
    /// Ends a connection and forgets its tokens; audits only the first revocation, a later one as a confirmation.
    func markRevoked(
        connectionId: Int64,
        by revokedBy: String,
        now: Date,
        audit: AuditEventRecord
    ) async throws(StorageError)
        -> RevocationResult
    func connection(id: Int64) async throws(StorageError) -> ConnectionRecord?
    func connection(environment: String, merchantId: String) async throws(StorageError) -> ConnectionRecord?
    /// Adds connections made outside the OAuth flow (seeding, a move from another system) with their audit events, all
    /// in one transaction; a merchant already connected in the same environment fails the whole batch.
    func importConnections(_ connections: [ConnectionRecord], audit: [AuditEventRecord]) async throws(StorageError)
    /// Every connection in id order (passes over one merchant, tests).
    func allConnections() async throws(StorageError) -> [ConnectionRecord]
    /// One page of connections for the dashboard, by keyset: its cost does not grow with how far the reader paged.
    func connections(matching query: ConnectionQuery) async throws(StorageError) -> ConnectionPage
    /// Counts by status, tokens expiring before `expiringBefore`, refresh failures since `failuresSince`.
    func connectionOverview(
        environment: String,
        now: Date,
        expiringBefore: Date,
        failuresSince: Date
    ) async throws(StorageError)
        -> ConnectionOverview

    // MARK: Audit

    /// Appends one audit event.
    func appendAudit(_ event: AuditEventRecord) async throws(StorageError)
    /// Audit events in the order they happened, optionally for one merchant.
    func auditEvents(merchantId: String?) async throws(StorageError) -> [AuditEventRecord]
    /// A page of the audit log, newest first.
    func auditEvents(matching query: AuditQuery) async throws(StorageError) -> [AuditEventRecord]
    /// How many rows the main tables hold.
    func counts() async throws(StorageError) -> StoreCounts
    /// Proves the store takes writes: takes the write lock in a transaction that changes nothing (readiness).
    func checkWritable() async throws(StorageError)

    // MARK: Token life

    /// Up to `limit` connections due for a refresh and free to lease, soonest-expiring first, chosen by the database.
    func connectionsDueForRefresh(
        settings: TokenLifeSettings,
        now: Date,
        merchantId: String?,
        limit: Int
    ) async throws(StorageError)
        -> [ConnectionRecord]
    /// How many connections are due for a refresh and free to lease.
    func countConnectionsDueForRefresh(settings: TokenLifeSettings, now: Date) async throws(StorageError) -> Int
    /// Leases a connection for one refresh with a conditional update; `force` skips the due check.
    func leaseForRefresh(
        connectionId: Int64,
        owner: String,
        settings: TokenLifeSettings,
        force: Bool,
        now: Date
    )
        async throws(StorageError) -> Result<RefreshLease, LeaseRefusal>
    /// The ids of up to `limit` connections due for a refresh and free to lease, in `connectionsDueForRefresh`'s order.
    func connectionIdsDueForRefresh(settings: TokenLifeSettings, now: Date, limit: Int) async throws(StorageError) -> [Int64]
    /// Leases, in one transaction, each of `connectionIds` still due, refreshable and free (not backing off), each by the
    /// same conditional update as `leaseForRefresh`; the others are left out of the answer.
    func leaseForRefresh(connectionIds: [Int64], owner: String, settings: TokenLifeSettings, now: Date) async throws(StorageError) -> [RefreshLease]
    /// Stores several refreshes in one transaction (a group commit), each exactly as `saveRefreshedTokens` would;
    /// one answer per save, in order: false for a connection revoked meanwhile.
    func saveRefreshedTokens(_ saves: [RefreshSave]) async throws(StorageError) -> [Bool]
    /// Stores refreshed tokens, clears the lease and failures, and audits; false when the connection was revoked meanwhile.
    func saveRefreshedTokens(
        _ tokens: RefreshedTokens,
        connectionId: Int64,
        now: Date,
        audit: AuditEventRecord
    )
        async throws(StorageError) -> Bool
    /// Counts a failed refresh that may succeed later, schedules the retry, releases the lease.
    func recordRefreshFailure(
        connectionId: Int64,
        reason: String,
        retryAt: Date,
        now: Date,
        audit: AuditEventRecord
    )
        async throws(StorageError)
    /// Marks a connection as needing the merchant to authorize again (never a revoked one), releasing any lease.
    func markNeedsReauth(connectionId: Int64, reason: String, now: Date, audit: AuditEventRecord) async throws(StorageError)
    /// Lets go of a lease without changing anything else.
    func releaseLease(connectionId: Int64, owner: String) async throws(StorageError)
    /// Lets go of several leases in one transaction; only the owner's leases are released.
    func releaseLeases(connectionIds: [Int64], owner: String) async throws(StorageError)
    /// How many active connections with an access token were not checked since `checkedBefore` (or never).
    func countConnectionsDueForStatusCheck(checkedBefore: Date) async throws(StorageError) -> Int
    /// Up to `limit` of those, never checked first, then least recently checked, ties by id: the ones after `after` in
    /// that order (keyset paging), so a check that changed nothing (Square did not answer) is not read again.
    func connectionsDueForStatusCheck(checkedBefore: Date, after: DueStatusCheck?, limit: Int) async throws(StorageError) -> [DueStatusCheck]
    /// Records a status check Square answered with success.
    func recordHealthyStatus(connectionId: Int64, scopes: String?, expiresAt: Date?, now: Date) async throws(StorageError)
    /// Records a status check that found the access token expired (only an active connection changes).
    func markAccessTokenExpired(connectionId: Int64, now: Date, audit: AuditEventRecord) async throws(StorageError)

    // MARK: Square events

    /// Records a Square event once and, for `oauth.authorization.revoked`, revokes the connection, in one transaction.
    func applySquareEvent(
        _ event: SquareEventRecord,
        environment: String,
        revokedBy: String?
    ) async throws(StorageError)
        -> SquareEventResult

    // MARK: Retention

    /// Deletes up to `limit` rows of each kind older than its cutoff, in one transaction; says how many went.
    func deleteExpiredBatch(_ cutoffs: RetentionCutoffs, limit: Int) async throws(StorageError) -> RetentionCounts

    // MARK: Sealed values (key rotation, environment identity)

    /// How many non-NULL values of `column` are sealed under each key id, without reading any plaintext.
    func sealedValueCounts(in column: SealedColumn) async throws(StorageError) -> [KeyIDCount]
    /// Up to `limit` values of `column` not sealed under `activeKeyID`, in primary-key order after `cursor`.
    func sealedValuesNeedingResealing(
        in column: SealedColumn,
        activeKeyID: String,
        after cursor: RowKey?,
        limit: Int
    )
        async throws(StorageError) -> [SealedValue]
    /// Writes each re-sealed value in one transaction, only where the row still holds the value that was read.
    func replaceSealedValues(
        in column: SealedColumn,
        _ resealings: [Resealing]
    ) async throws(StorageError)
        -> (resealed: Int, skipped: Int)
    /// The distinct environment names connections are stored under.
    func connectionEnvironments() async throws(StorageError) -> [String]
    /// Connections whose environment is one of `environments`, in id order.
    func connections(inEnvironments environments: [String]) async throws(StorageError) -> [ConnectionRecord]
    /// Moves connections to a new environment name with their re-sealed tokens, all or none, and audits once.
    func rekeyConnections(_ changes: [ConnectionRekey], audit: AuditEventRecord) async throws(StorageError)

    // MARK: Admins

    /// Adds an admin with its audit event; nil when the name is taken.
    func addAdmin(_ admin: AdminUserRecord, audit: AuditEventRecord) async throws(StorageError) -> AdminUserRecord?
    func admin(named name: String) async throws(StorageError) -> AdminUserRecord?
    /// Every admin, by name.
    func allAdmins() async throws(StorageError) -> [AdminUserRecord]
    /// Replaces an admin's password hash, marks whether it is a one-time password, and ends every session of theirs but
    /// `keepingSession` (the hash of the session that made the change, if any), with the audit event.
    func changeAdminPassword(
        named name: String,
        passwordHash: String,
        oneTime: Bool,
        keepingSession: String?,
        audit: AuditEventRecord
    ) async throws(StorageError) -> AdminChange
    /// Gives an admin another role, with the audit event; the last owner keeps theirs.
    func changeAdminRole(named name: String, to role: AdminRole, audit: AuditEventRecord) async throws(StorageError) -> AdminChange
    /// Removes an admin and their sessions, with the audit event; never the last owner.
    func removeAdmin(named name: String, audit: AuditEventRecord) async throws(StorageError) -> AdminChange
    /// Opens a session after a good sign-in: records it on the admin, ends the browser's previous session and every
    /// ended session, and audits; false when the admin was removed meanwhile.
    func openAdminSession(
        _ session: AdminSessionRecord,
        replacing previousHash: String?,
        audit: AuditEventRecord
    ) async throws(StorageError) -> Bool
    /// The live session a cookie's hash names, with its admin; its idle expiry moves to `idleUntil` (never past its end).
    func adminSession(hash: String, now: Date, idleUntil: Date) async throws(StorageError) -> AdminSession?
    /// Ends one session (sign-out) with its audit event; false when it was gone already.
    func endAdminSession(hash: String, audit: AuditEventRecord) async throws(StorageError) -> Bool

    // MARK: Admin second factor

    /// Stores a new secret that is not on yet (replacing a pending one); false when the admin is unknown or has one on.
    func beginAdminTOTP(named name: String, secretSealed: String) async throws(StorageError) -> Bool
    /// Turns the pending secret on (it must still be `secretSealed`), with the step its first code used and the
    /// recovery codes' hashes, and audits; false when it changed meanwhile or is on already.
    func enableAdminTOTP(
        named name: String,
        secretSealed: String,
        acceptedStep: Int,
        recoveryCodeHashes: [String],
        now: Date,
        audit: AuditEventRecord
    ) async throws(StorageError) -> Bool
    /// Records `step` as used when it is later than the last accepted one; false for a replayed or older step.
    func acceptAdminTOTPStep(named name: String, step: Int) async throws(StorageError) -> Bool
    /// Spends one unused recovery code (by its hash), with the audit event; false when it is not one of them.
    func spendAdminRecoveryCode(named name: String, hash: String, audit: AuditEventRecord) async throws(StorageError) -> Bool
    /// Turns the second factor off and forgets its secret and codes, with the audit event (an owner's reset, or the
    /// admin's own choice).
    func resetAdminTOTP(named name: String, audit: AuditEventRecord) async throws(StorageError) -> AdminChange
    /// Replaces the unused recovery codes with these hashes, with the audit event; false when the second factor is off.
    func renewAdminRecoveryCodes(named name: String, hashes: [String], audit: AuditEventRecord) async throws(StorageError) -> Bool
}

extension OnboardingStore {
    func auditEvents() async throws(StorageError) -> [AuditEventRecord] { try await auditEvents(merchantId: nil) }

    /// Every connection due for a refresh (tests and small sets; passes read in batches).
    func connectionsDueForRefresh(
        settings: TokenLifeSettings,
        now: Date,
        merchantId: String?
    ) async throws(StorageError)
        -> [ConnectionRecord]
    {
        try await connectionsDueForRefresh(settings: settings, now: now, merchantId: merchantId, limit: Int(Int32.max))
    }
}

/// What checking a callback's state found.
enum StateCheck: Sendable, Equatable {
    case accepted(AuthorizationRecord)
    case unknown
    case expired
    case reused
    case otherBrowser
}

/// What a successful token exchange leaves to store, tokens already sealed.
struct ConnectionGrant: Sendable {
    var environment: String
    var merchantId: String
    var sealedAccessToken: String
    var sealedRefreshToken: String?
    var tokenType: String
    var expiresAt: Date?
    var refreshTokenExpiresAt: Date?
    var scopes: String
    var scopesConfirmed: Bool
    var shortLived: Bool
    var flow: OAuthFlow
    var receivedAt: Date
    /// The partner link that brought the merchant, if one did.
    var partnerLink: PartnerLinkUse? = nil
}

/// What storing a grant did.
struct SavedConnection: Sendable, Equatable {
    var connection: ConnectionRecord
    /// The merchant was connected before (in any status): the same row was re-authorised, not a new one made.
    var reconnected: Bool
    /// The grant came through a partner's link, but another partner already had this connection, which stays theirs.
    var heldByAnotherPartner: Bool = false
}

/// A merchant session to open beside a new connection: the cookie's hash, its CSRF token, its end.
struct MerchantSessionSeed: Sendable {
    var hash: String
    var csrfToken: String
    var expiresAt: Date
}

/// A live merchant session and the connection it shows.
struct MerchantSession: Sendable, Equatable {
    var session: MerchantSessionRecord
    var connection: ConnectionRecord
}

/// A live admin session and the admin it belongs to, as the admin realm's handlers see it.
struct AdminSession: Sendable, Equatable {
    var session: AdminSessionRecord
    var admin: AdminUserRecord
}

/// What changing or removing an admin did.
enum AdminChange: Sendable, Equatable {
    /// Done: the admin as it is now (as it was, when removed), and how many of their sessions ended.
    case changed(AdminUserRecord, endedSessions: Int)
    case notFound
    /// Refused: the admin is the last owner, and an owner must remain.
    case lastOwner
}

/// What `markRevoked` did.
enum RevocationResult: Sendable, Equatable {
    case revoked
    /// It was revoked before (for example by Square's webhook); recorded as a confirmation.
    case alreadyRevoked
    case notFound
}

/// What asking to revoke a connection found.
enum RevocationClaim: Sendable, Equatable {
    /// This caller may revoke; the connection as it stood.
    case claimed(ConnectionRecord)
    /// Nothing to do: it is revoked already.
    case alreadyRevoked(ConnectionRecord)
    /// Someone else is revoking it until the given time.
    case busy(until: Date)
    case notFound
}

/// Rows older than these go in a retention sweep.
struct RetentionCutoffs: Sendable, Equatable {
    var authorizationsExpiredBefore: Date
    var sessionsEndedBefore: Date
    var squareEventsReceivedBefore: Date
    var auditBefore: Date
    /// Partners' idempotency keys live a day.
    var idempotencyKeysBefore: Date = .distantPast
    /// Partners' events (finished deliveries) are kept to replay for `PartnerEvents.retention`.
    var webhookEventsBefore: Date = .distantPast
    /// Failed admin sign-ins older than the longest throttle window (a day) count for nothing.
    var signInFailuresBefore: Date = .distantPast
}

/// How many rows of each kind a retention sweep deleted.
struct RetentionCounts: Sendable, Equatable {
    var authorizations = 0
    var sessions = 0
    var squareEvents = 0
    var auditEvents = 0
    var idempotencyKeys = 0
    var webhookEvents = 0
    var signInFailures = 0

    var total: Int { authorizations + sessions + squareEvents + auditEvents + idempotencyKeys + webhookEvents + signInFailures }

    static func + (left: Self, right: Self) -> Self {
        RetentionCounts(
            authorizations: left.authorizations + right.authorizations,
            sessions: left.sessions + right.sessions,
            squareEvents: left.squareEvents + right.squareEvents,
            auditEvents: left.auditEvents + right.auditEvents,
            idempotencyKeys: left.idempotencyKeys + right.idempotencyKeys,
            webhookEvents: left.webhookEvents + right.webhookEvents,
            signInFailures: left.signInFailures + right.signInFailures
        )
    }
}

/// Row counts, for tests and health.
struct StoreCounts: Sendable, Equatable {
    var authorizations: Int
    var connections: Int
}

/// A row held for one refresh: the connection as read under the lease, and who holds it.
struct RefreshLease: Sendable, Equatable {
    var connection: ConnectionRecord
    var owner: String
    /// The row still carried a lapsed lease: an earlier refresh stopped (crash, kill) before it finished.
    var previousAttemptInterrupted: Bool
}

/// What a refresh brought back from Square, already sealed.
struct RefreshedTokens: Sendable {
    var sealedAccessToken: String
    /// Nil when Square returned no refresh token (the stored one stays).
    var sealedRefreshToken: String?
    var expiresAt: Date?
    var refreshTokenExpiresAt: Date?
    var shortLived: Bool
}

/// One finished refresh to store: the sealed tokens, the row, when, and its audit event.
struct RefreshSave: Sendable {
    var tokens: RefreshedTokens
    var connectionId: Int64
    var now: Date
    var audit: AuditEventRecord
}

/// A connection due for a status check, and its place in the due set's order (when it was last checked, then id).
struct DueStatusCheck: Sendable, Equatable {
    var id: Int64
    var lastCheckedAt: Date?
}

/// Why a lease was not granted.
enum LeaseRefusal: Error, Sendable, Equatable {
    case notFound
    case notRefreshable(status: ConnectionStatus)
    case notDue
    case busy(until: Date)
}

/// What handling an inbound Square event did.
enum SquareEventResult: Sendable, Equatable {
    /// The event id was seen before: Square retried; nothing was done again.
    case duplicate
    /// The connection was marked revoked.
    case revoked(merchantId: String)
    /// Square confirmed a revocation we had already recorded.
    case confirmed(merchantId: String)
    /// Recorded, but no connection needed a change (unknown merchant, other event type).
    case noChange
}

/// A row's primary key, whatever its type.
enum RowKey: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case text(String)

    var description: String {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        }
    }
}

/// One stored sealed value, the row that holds it, and the context it was sealed with.
struct SealedValue: Sendable {
    var rowKey: RowKey
    var sealed: String
    var context: String

    /// The row's primary key as reports print it.
    var rowID: String { rowKey.description }
}

/// A value read by `sealedValuesNeedingResealing` and what should replace it.
struct Resealing: Sendable {
    var original: SealedValue
    var resealed: String
}

/// How many values of one column sit under one key id.
struct KeyIDCount: Sendable, Equatable {
    /// nil when the stored text is not a sealed box at all.
    var keyID: String?
    var count: Int
}

/// One connection moved to a new environment name, its tokens re-sealed for the new name.
struct ConnectionRekey: Sendable {
    var connectionId: Int64
    var fromEnvironment: String
    var toEnvironment: String
    var sealedAccessToken: String?
    var sealedRefreshToken: String?
}
