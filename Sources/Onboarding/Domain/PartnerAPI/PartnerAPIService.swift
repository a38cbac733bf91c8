import Foundation
import Logging
import OnboardCrypto
import SquareOAuth

/// What a partner's backend does through the API: authenticate, make links, read connections, get tokens, disconnect.
///
/// Every method takes the calling partner: a partner only ever finds its own connections and links.
struct PartnerAPIService: Sendable {
    let configuration: AppConfiguration
    let store: any PartnerStore & OnboardingLinkStore & ConnectionStore & DashboardStore & WebhookOutboxStore & AuditLog
    let onboarding: OnboardingService
    let refresher: TokenRefresher
    let vault: TokenVault
    let clock: AppClock
    let logger: Logger
    /// Which webhook endpoints a test event may reach.
    let webhookTargets: WebhookTargetGuard

    static let defaultLinkLifetime = 86_400
    static let defaultMinimumValidity = 300

    /// The partner a presented API key belongs to, or nil: malformed, unknown and revoked keys look the same.
    func authenticate(bearer presented: String) async throws(PartnerError) -> PartnerKeyMatch? {
        guard let prefix = PartnerCredentials.prefix(of: presented) else { return nil }
        let match = try await storingPartner("finding an API key", logger: logger) { try await store.partnerKey(prefix: prefix) }
        guard let match, PartnerCredentials.matches(presented, match.key), let keyId = match.key.id else { return nil }
        let now = clock.now()
        if match.key.lastUsedAt.map({ now.timeIntervalSince($0) >= 60 }) ?? true {
            // Last-used is a hint for operators; a failure to record it must not fail the request.
            do { try await store.recordPartnerKeyUse(keyId: keyId, now: now) } catch {
                logger.warning("Could not record an API key's use", metadata: ["error": "\(error)"])
            }
        }
        return match
    }

    /// What a partner asks a link to be.
    struct LinkRequest: Sendable {
        var reference: String
        var returnURL: String
        var scopes: [String]?
        var expiresIn: Int?
        var mode: LinkMode?
        var refreshURL: String? = nil
    }

    /// Makes an onboarding link after checking every field; its URL opens our connect page under the partner's name.
    func createLink(_ request: LinkRequest, for partner: PartnerRecord) async throws(PartnerError) -> (OnboardingLinkRecord, URL) {
        let reference = request.reference
        guard !reference.isEmpty, reference.count <= 200, !reference.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw .invalidField(field: "reference", reason: "1 to 200 characters, no control characters") }
        guard PartnerURLRules.isAllowed(returnURL: request.returnURL, entries: partner.returnURLPrefixes) else {
            throw .returnURLNotAllowed
        }
        if let refreshURL = request.refreshURL, !PartnerURLRules.isAllowed(returnURL: refreshURL, entries: partner.returnURLPrefixes) {
            throw .refreshURLNotAllowed
        }
        let scopes = request.scopes ?? configuration.scopes
        if let unknown = scopes.first(where: { !SquareScope.isKnown($0) }) {
            throw .invalidField(field: "scopes", reason: "'\(unknown)' is not a Square permission this service knows")
        }
        guard !scopes.isEmpty else { throw .invalidField(field: "scopes", reason: "name at least one permission") }
        let lifetime = request.expiresIn ?? Self.defaultLinkLifetime
        guard (60...604_800).contains(lifetime) else { throw .invalidField(field: "expires_in", reason: "between 60 and 604800 seconds") }
        let mode = request.mode ?? .redirect
        if mode == .popup, partner.popupOriginList.isEmpty {
            throw .invalidField(field: "mode", reason: "popup mode needs an allowed popup origin on the partner (partner update --popup-origin)")
        }
        let now = clock.now()
        let link = OnboardingLinkRecord(
            id: PartnerCredentials.newLinkId(),
            partnerId: partner.id,
            reference: reference,
            scopes: Array(NSOrderedSet(array: scopes)).compactMap { $0 as? String }.joined(separator: " "),
            returnUrl: request.returnURL,
            mode: mode,
            createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(lifetime)),
            refreshUrl: request.refreshURL
        )
        try await storingPartner("storing an onboarding link", logger: logger) {
            try await store.createOnboardingLink(
                link,
                audit: AuditEventRecord(
                    occurredAt: now,
                    actor: .partner(partner.id),
                    action: .linkCreated,
                    detail: "link=\(link.id) mode=\(mode.rawValue) scopes=\(link.scopes)"
                )
            )
        }
        return (link, linkURL(link))
    }

    /// The URL a merchant opens for a link.
    func linkURL(_ link: OnboardingLinkRecord) -> URL {
        configuration.publicBaseURL.appendingPathComponent("connect").appendingPathComponent(link.id)
    }

    /// One of the partner's connections.
    func connection(merchantId: String, for partner: PartnerRecord) async throws(PartnerError) -> ConnectionRecord {
        let environment = configuration.environmentIdentity
        let found = try await storingPartner("reading a connection", logger: logger) {
            try await store.connection(environment: environment, merchantId: merchantId)
        }
        // Another partner's connection is not found, exactly like one that does not exist.
        guard let found, found.partnerId == partner.id else { throw .connectionNotFound }
        return found
    }

    /// A page of the partner's connections by merchant id.
    func connections(
        reference: String?,
        status: ConnectionStatus?,
        cursor: String?,
        limit: Int,
        for partner: PartnerRecord
    ) async throws(PartnerError) -> ConnectionPage {
        var after: ConnectionCursor?
        if let cursor {
            guard let parsed = ConnectionCursor(token: cursor) else { throw .invalidField(field: "cursor", reason: "not a cursor this API gave") }
            after = parsed
        }
        let query = ConnectionQuery(
            environment: configuration.environmentIdentity,
            status: status,
            partnerId: partner.id,
            reference: reference,
            sort: .merchant,
            limit: limit,
            after: after
        )
        return try await storingPartner("listing connections", logger: logger) { try await store.connections(matching: query) }
    }

    /// A token that stays valid at least `minimumValidity` seconds, refreshed first (single-flight) when it would not.
    func accessToken(
        merchantId: String,
        minimumValidity: Int?,
        for partner: PartnerRecord
    ) async throws(PartnerError) -> (token: Secret, connection: ConnectionRecord) {
        let margin = minimumValidity ?? Self.defaultMinimumValidity
        guard (0...2_419_200).contains(margin) else { throw .invalidField(field: "min_valid_for", reason: "between 0 and 2419200 seconds") }
        var connection = try await connection(merchantId: merchantId, for: partner)
        var refreshed = false
        if !isValid(connection, for: margin) {
            guard connection.status == .active else { throw .connectionNotUsable(status: connection.status) }
            let id = connection.id
            let outcome = await refresher.refresh(connectionId: id, actor: .partner(partner.id), force: true)
            switch outcome {
            case .refreshed, .busy, .notDue:
                // Busy: another process holds the lease; its answer is in the row once it lets go.
                connection = try await settledConnection(id: id, merchantId: merchantId, for: partner)
                refreshed = true
            case .needsReauth: throw .connectionNotUsable(status: .needsReauth)
            case .notRefreshable(let status): throw .connectionNotUsable(status: status)
            case .revokedMeanwhile: throw .connectionNotUsable(status: .revoked)
            case .notFound: throw .connectionNotFound
            case .retryLater: throw .squareUnavailable
            }
            guard isValid(connection, for: margin) else {
                guard connection.status == .active else { throw .connectionNotUsable(status: connection.status) }
                throw .squareUnavailable
            }
        }
        guard connection.status == .active, let sealed = connection.sealedAccessToken else {
            throw .connectionNotUsable(status: connection.status)
        }
        let token: Secret
        do {
            token = try vault.openAccessToken(sealed, environment: connection.environment, merchantId: connection.merchantId)
        } catch {
            logger.critical("Could not open a stored access token", metadata: ["merchant_id": .string(merchantId)])
            throw .storageUnavailable
        }
        let now = clock.now()
        let issued = connection
        try await storingPartner("auditing an issued token", logger: logger) {
            try await store.appendAudit(
                AuditEventRecord(
                    occurredAt: now,
                    actor: .partner(partner.id),
                    action: .tokenIssued,
                    merchantId: issued.merchantId,
                    detail: "min_valid_for=\(margin) refreshed_first=\(refreshed)"
                )
            )
        }
        return (token, connection)
    }

    /// Disconnects one of the partner's connections (single-flight with every other disconnect path).
    func disconnect(merchantId: String, for partner: PartnerRecord) async throws(PartnerError) -> ConnectionRecord {
        let connection = try await connection(merchantId: merchantId, for: partner)
        do {
            return try await onboarding.disconnect(connection, actor: .partner(partner.id))
        } catch {
            switch error {
            case .storageUnavailable: throw .storageUnavailable
            case .notFound: throw .connectionNotFound
            default: throw .squareUnavailable
            }
        }
    }

    private func isValid(_ connection: ConnectionRecord, for margin: Int) -> Bool {
        guard connection.status == .active, connection.sealedAccessToken != nil else { return false }
        guard let expiresAt = connection.expiresAt else { return true }
        return expiresAt.timeIntervalSince(clock.now()) >= TimeInterval(margin)
    }

    /// The connection once no refresh holds it (another process's lease lasts at most one Square call).
    private func settledConnection(id: Int64, merchantId: String, for partner: PartnerRecord) async throws(PartnerError) -> ConnectionRecord {
        let giveUpAt = clock.now().addingTimeInterval(TimeInterval(configuration.squareTimeout.components.seconds) + 2)
        while true {
            let connection = try await connection(merchantId: merchantId, for: partner)
            guard let lease = connection.refreshLeaseUntil, lease > clock.now(), clock.now() < giveUpAt else { return connection }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
