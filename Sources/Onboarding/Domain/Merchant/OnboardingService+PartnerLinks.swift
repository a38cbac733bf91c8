import Foundation

/// The merchant flow's partner side: opening a partner's link, and the signed way back to the partner.
extension OnboardingService {
    /// A link and its partner found for a merchant's flow.
    struct FoundLink: Sendable {
        var link: OnboardingLinkRecord
        var partner: PartnerRecord
    }

    /// The link a merchant opened, when it can still start a flow: known, its partner still there, unexpired, unused.
    func openableLink(id: String) async throws(OnboardingError) -> FoundLink {
        guard id.hasPrefix("lnk_"), id.utf8.count <= 64 else { throw .linkNotFound }
        let link = try await storing("reading an onboarding link") { try await store.onboardingLink(id: id) }
        guard let link else { throw .linkNotFound }
        let partner = try await storing("reading a partner") { try await store.partner(id: link.partnerId) }
        guard let partner else { throw .linkNotFound }
        switch link.status(at: clock.now()) {
        case .open: return FoundLink(link: link, partner: partner)
        case .completed: throw .linkUsed(partner: partner.displayName)
        case .expired: throw .linkExpired(partner: partner.displayName)
        case .cancelled: throw .linkCancelled(partner: partner.displayName)
        }
    }

    /// Where a browser that opened a used, expired or cancelled link goes instead: the link's refresh URL, signed like
    /// the return, so the partner can make a fresh link; nil when the link is open, unknown or has no usable refresh URL.
    func refreshRedirect(forDeadLink id: String) async -> PartnerReturn? {
        guard id.hasPrefix("lnk_"), id.utf8.count <= 64 else { return nil }
        do {
            guard let link = try await store.onboardingLink(id: id), let refreshURL = link.refreshUrl,
                let partner = try await store.partner(id: link.partnerId)
            else { return nil }
            let status: PartnerReturn.Status
            switch link.status(at: clock.now()) {
            case .open: return nil
            case .completed: status = .completed
            case .expired: status = .expired
            case .cancelled: status = .cancelled
            }
            var found = FoundLink(link: link, partner: partner)
            // The browser is sent on as a plain redirect, whatever mode the link was made for.
            found.link.mode = .redirect
            return returnToPartner(found, status: status, destination: refreshURL)
        } catch {
            logger.error("Could not read a dead link's refresh URL", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The link an authorization was started from, with its partner; nil outside a partner's flow or once removed.
    func partnerLink(of authorization: AuthorizationRecord) async throws(OnboardingError) -> FoundLink? {
        guard let id = authorization.partnerLinkId else { return nil }
        let link = try await storing("reading an onboarding link") { try await store.onboardingLink(id: id) }
        guard let link else { return nil }
        let partner = try await storing("reading a partner") { try await store.partner(id: link.partnerId) }
        return partner.map { FoundLink(link: link, partner: $0) }
    }

    /// Where a merchant whose flow failed after its state was accepted goes back to, when a partner's link started it.
    func partnerReturn(afterFailedCallbackWithState state: String?, error: OnboardingError) async -> PartnerReturn? {
        guard let state, !state.isEmpty else { return nil }
        do {
            guard let authorization = try await store.authorization(stateHash: sha256Hex(state)), authorization.consumedAt != nil,
                let found = try await partnerLink(of: authorization)
            else { return nil }
            let denied = error == .accessDenied
            return returnToPartner(found, status: denied ? .denied : .error, error: denied ? nil : error.partnerCode)
        } catch {
            logger.error("Could not read how to return to a partner", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The signed return for a link, or nil (logged) when it cannot be made: the merchant then sees our own page.
    func returnToPartner(
        _ found: FoundLink,
        status: PartnerReturn.Status,
        destination: String? = nil,
        result: String? = nil,
        merchantId: String? = nil,
        error: String? = nil
    ) -> PartnerReturn? {
        let secret: String
        do {
            secret = try vault.openPartnerSecret(found.partner.webhookSecretSealed, partnerId: found.partner.id)
        } catch {
            logger.critical("Could not open a partner's signing secret", metadata: ["partner_id": .string(found.partner.id)])
            return nil
        }
        let made = PartnerReturn.make(
            link: found.link,
            destination: destination,
            partner: found.partner,
            secret: secret,
            status: status,
            result: result,
            merchantId: merchantId,
            error: error,
            now: clock.now()
        )
        if made == nil {
            // The partner's allow-list changed since the link was made: no redirect to a URL it no longer allows.
            logger.warning(
                "A link's return or refresh URL is no longer allowed; the merchant stays here",
                metadata: ["link_id": .string(found.link.id)]
            )
        }
        return made
    }
}

extension OnboardingError {
    /// The `error` a partner's return URL carries: stable snake-case codes, never a message.
    var partnerCode: String {
        switch self {
        case .accessDenied: "access_denied"
        case .missingCode: "missing_code"
        case .squareReportedError: "square_error"
        case .codeRejected: "code_rejected"
        case .squareRefusedCredentials, .squareRateLimited, .squareTimedOut, .squareUnavailable: "square_unavailable"
        case .storageUnavailable: "service_unavailable"
        case .connectedThroughAnotherPartner: "connected_through_another_partner"
        case .linkCancelled: "link_cancelled"
        default: "failed"
        }
    }

    /// How a link's flow that ended with this error is recorded on the link and in `onboarding_link.completed`.
    var linkCompletion: LinkCompletion {
        self == .accessDenied ? LinkCompletion(result: .denied, error: nil) : LinkCompletion(result: .error, error: partnerCode)
    }

    /// Whether the callback's state was accepted before this failure (so the attempt, and its link, are known).
    var happensAfterStateAccepted: Bool {
        switch self {
        case .accessDenied, .squareReportedError, .missingCode, .codeRejected, .squareRefusedCredentials, .squareRateLimited,
            .squareTimedOut, .squareUnavailable, .storageUnavailable, .connectedThroughAnotherPartner, .linkCancelled:
            true
        default: false
        }
    }
}
