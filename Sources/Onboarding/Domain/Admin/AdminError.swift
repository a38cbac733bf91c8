import Logging

/// Everything managing admins or signing in can run into; the admin realm maps it to a page, the CLI to one line.
enum AdminError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidName
    case unknownRole(String)
    case weakPassword(String)
    case nameTaken(String)
    case unknownAdmin(String)
    case lastOwner(String)
    /// A wrong password or an unknown name: the same answer for both.
    case signInFailed
    /// Too many failed sign-ins for this name or address; try again after this many seconds.
    case signInThrottled(retryAfter: Int)
    /// The page needs a signed-in admin.
    case signInRequired
    /// The signed-in admin's role does not grant this.
    case roleRequired(AdminRole)
    case storageUnavailable
    /// The password was right and the admin has a second factor: the code step, carrying this signed challenge.
    case secondFactorRequired(challenge: String)
    /// A wrong, replayed or spent code (TOTP or recovery).
    case secondFactorCodeWrong
    /// Setting up a second factor that is already on.
    case secondFactorAlreadyOn
    /// Renewing recovery codes without a second factor.
    case secondFactorOff
    /// The password typed to confirm a change of one's own account is not theirs.
    case passwordNotConfirmed
    /// An owner changing their own role or removing themselves in the dashboard (another owner or the CLI can).
    case ownAccount

    /// A wrong or refused sign-in: the sign-in form is shown again, with the reason.
    var isSignInRefusal: Bool {
        switch self {
        case .signInFailed, .signInThrottled, .secondFactorCodeWrong: true
        default: false
        }
    }

    var description: String {
        switch self {
        case .invalidName: "admin names are 1 to 64 of a-z, 0-9, '.', '_' and '-'"
        case .unknownRole(let role): "no role is named '\(role)'; the roles are viewer, operator and owner"
        case .weakPassword(let reason): "the password \(reason)"
        case .nameTaken(let name): "an admin named '\(name)' already exists"
        case .unknownAdmin(let name): "no admin is named '\(name)'"
        case .lastOwner(let name): "'\(name)' is the last owner; make another admin an owner first"
        case .signInFailed: "that name and password do not match an admin account"
        case .signInThrottled(let seconds): "too many failed sign-ins; try again in \(seconds) s"
        case .signInRequired: "sign in first"
        case .roleRequired(let role): "this needs the \(role.rawValue) role"
        case .storageUnavailable: "the database did not answer"
        case .secondFactorRequired: "enter the code from your authenticator app"
        case .secondFactorCodeWrong: "that code is not right, or was used already"
        case .secondFactorAlreadyOn: "the second factor is on already; an owner can reset it"
        case .secondFactorOff: "the second factor is off, so there are no recovery codes; set it up first"
        case .passwordNotConfirmed: "that is not your current password; nothing was changed"
        case .ownAccount: "you cannot change your own role or remove yourself here; another owner can, or square-onboard admin"
        }
    }
}

/// Runs one storage operation for the admin services; a failure is logged with what was being done.
func storingAdmin<T>(_ what: String, logger: Logger, _ operation: () async throws -> T) async throws(AdminError) -> T {
    try await storageCall(what, logger: logger, unavailable: AdminError.storageUnavailable, operation)
}
