import HTTPTypes
import SquareOAuth

/// Everything a merchant's request can run into; mapped to a status and a safe message at the edge.
enum OnboardingError: Error, Equatable, Sendable {
    case missingState
    case malformedCallback
    case unknownState
    case expiredState
    case reusedState
    case stateFromAnotherBrowser
    case missingCode
    case accessDenied
    case squareReportedError(String)
    case codeRejected
    case squareRefusedCredentials
    case squareRateLimited
    case squareTimedOut
    case squareUnavailable
    case csrfRejected
    case noMerchantSession
    case disconnectFailed
    case disconnectNeedsClientSecret
    case storageUnavailable
    case notFound
    case requestTooLarge
    case invalidAddress
    case tooManyRequests(retryAfterSeconds: Int)
    /// A partner's onboarding link that does not exist (or whose partner was removed).
    case linkNotFound
    /// A partner's link past its end, or already used to connect; the partner's name says whom to ask for a new one.
    case linkExpired(partner: String)
    case linkUsed(partner: String)
    /// A partner's link its partner cancelled: it starts no flow, and a flow already started from it ends unconnected.
    case linkCancelled(partner: String)
    /// The merchant's Square account is connected through another partner, whose connection was left as it was.
    case connectedThroughAnotherPartner

    var status: HTTPResponse.Status {
        switch self {
        case .missingState, .malformedCallback, .unknownState, .expiredState, .reusedState, .missingCode, .codeRejected,
            .invalidAddress:
            .badRequest
        case .stateFromAnotherBrowser, .accessDenied, .csrfRejected: .forbidden
        case .noMerchantSession: .unauthorized
        case .squareReportedError, .squareRefusedCredentials, .squareUnavailable, .disconnectFailed: .badGateway
        case .squareRateLimited, .disconnectNeedsClientSecret, .storageUnavailable: .serviceUnavailable
        case .squareTimedOut: .gatewayTimeout
        case .notFound, .linkNotFound: .notFound
        case .linkExpired, .linkUsed, .linkCancelled: .gone
        case .connectedThroughAnotherPartner: .conflict
        case .requestTooLarge: .contentTooLarge
        case .tooManyRequests: .tooManyRequests
        }
    }

    var title: String {
        switch self {
        case .missingState, .malformedCallback: "That link is not a complete Square answer"
        case .unknownState: "We don't recognise this connection attempt"
        case .expiredState: "This connection attempt has expired"
        case .reusedState: "This connection attempt was already used"
        case .stateFromAnotherBrowser: "This connection was started in another browser"
        case .missingCode: "Square did not send an authorization code"
        case .accessDenied: "You chose not to connect"
        case .squareReportedError: "Square could not complete the authorization"
        case .codeRejected: "Square rejected the authorization"
        case .squareRefusedCredentials: "Square refused this service's credentials"
        case .squareRateLimited: "Square is busy right now"
        case .squareTimedOut: "Square did not answer in time"
        case .squareUnavailable: "Square is not answering properly right now"
        case .csrfRejected: "This form has expired"
        case .noMerchantSession: "No connection in this browser"
        case .disconnectFailed: "Square did not confirm the disconnect"
        case .disconnectNeedsClientSecret: "Disconnecting is not set up"
        case .storageUnavailable: "Our database is not answering"
        case .notFound: "Page not found"
        case .requestTooLarge: "That request is too large"
        case .invalidAddress: "That address is not valid"
        case .tooManyRequests: "Too many attempts"
        case .linkNotFound: "This connect link is not valid"
        case .linkExpired: "This connect link has expired"
        case .linkUsed: "This connect link was already used"
        case .linkCancelled: "This connect link was cancelled"
        case .connectedThroughAnotherPartner: "This Square account is already connected through another service"
        }
    }

    var message: String {
        switch self {
        case .missingState, .malformedCallback:
            "The address is missing parts Square always sends. Start again from the connect page."
        case .unknownState: "It may have been started on another server or long ago. Start again from the connect page."
        case .expiredState: "Connection attempts are only valid for a few minutes. Start again from the connect page."
        case .reusedState: "Each connection attempt works once. If you already connected, you're done; otherwise start again."
        case .stateFromAnotherBrowser:
            "For your safety, finish connecting in the same browser you started in. Start again here if you like."
        case .missingCode: "Nothing was connected. Start again from the connect page."
        case .accessDenied: "Nothing was shared with us and nothing was connected. You can connect any time."
        case .squareReportedError(let code): "Square answered \"\(code)\". Nothing was connected. Please try again."
        case .codeRejected: "The authorization code was invalid or had expired. Nothing was connected. Please try again."
        case .squareRefusedCredentials:
            "Nothing was connected. The people running this service have been told; please try again later."
        case .squareRateLimited: "Nothing was connected. Please wait a minute and try again."
        case .squareTimedOut, .squareUnavailable: "Nothing was connected. Please try again in a moment."
        case .csrfRejected: "For your safety the form must come from this site and be recent. Reload the page and try again."
        case .noMerchantSession: "Connect your Square account first, or reopen the page in the browser you connected with."
        case .disconnectFailed: "Your connection is still active. Please try again in a moment."
        case .disconnectNeedsClientSecret:
            "This service has no Square client secret configured, which Square requires to disconnect. Your connection is still active."
        case .storageUnavailable: "This is a problem on our side, not Square's. Please try again in a moment."
        case .notFound: "There is nothing at this address."
        case .requestTooLarge: "The request was larger than this service accepts."
        case .invalidAddress: "It contains characters no page of this service uses. Check the link, or start from the connect page."
        case .tooManyRequests(let seconds):
            "Too many connection attempts came from your network in a short time, so this one was not processed. "
                + "Please wait \(seconds == 1 ? "a second" : "\(seconds) seconds") and try again."
        case .linkNotFound: "Check that you opened the whole link, or ask the service that sent it for a new one."
        case .linkExpired(let partner): "Connect links work for a limited time. Ask \(partner) for a new one."
        case .linkUsed(let partner):
            "Each connect link works once, and this one has been used. To connect (again), ask \(partner) for a new link."
        case .linkCancelled(let partner): "\(partner) cancelled this link, and nothing was connected with it. Ask \(partner) for a new one."
        case .connectedThroughAnotherPartner:
            "Nothing was changed: your existing connection keeps working as before. To move it, disconnect it first, then use the link again."
        }
    }

    /// Whether the page may offer "Try again" on our connect page: not when only the partner can give a working link.
    var offersRetry: Bool {
        switch self {
        case .linkNotFound, .linkExpired, .linkUsed, .linkCancelled, .connectedThroughAnotherPartner: false
        default: true
        }
    }

    /// The audit and log name of this failure.
    var code: String {
        String(describing: self).split(separator: "(").first.map(String.init) ?? "error"
    }

    /// The merchant-facing error for a failed token exchange.
    init(exchangeFailure error: SquareError) {
        switch error.kind {
        case .invalidGrant, .invalidRequest: self = .codeRejected
        case .unauthorized: self = .squareRefusedCredentials
        case .rateLimited: self = .squareRateLimited
        case .transient: self = error.transportFailure == "timed out" ? .squareTimedOut : .squareUnavailable
        case .malformedResponse: self = .squareUnavailable
        }
    }
}
