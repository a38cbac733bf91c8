/// Why the store could not do what was asked; the domain maps it to "our database is unavailable", never to Square.
enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database could not be reached, was busy past its timeout, or failed to read or write.
    case unavailable(String)
    /// The schema refused the write (a unique key, a check, a foreign key).
    case constraintViolated(String)

    var description: String {
        switch self {
        case .unavailable(let reason): "database unavailable (\(reason))"
        case .constraintViolated(let reason): "database refused the write (\(reason))"
        }
    }
}
