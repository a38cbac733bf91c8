import GRDB

extension StorageError {
    /// Classifies an engine error; the text names the engine's result code and message, never statement arguments.
    init(_ error: any Error) {
        if let error = error as? StorageError {
            self = error
        } else if let error = error as? DatabaseError, error.resultCode == .SQLITE_CONSTRAINT {
            self = .constraintViolated(error.message ?? "\(error.resultCode)")
        } else if let error = error as? DatabaseError {
            self = .unavailable("\(error.resultCode): \(error.message ?? "")")
        } else {
            self = .unavailable("\(type(of: error))")
        }
    }
}
