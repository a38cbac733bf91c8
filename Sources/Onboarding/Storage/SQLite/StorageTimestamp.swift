import Foundation
import GRDB

/// A `Date` as GRDB stores it (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), written with integer arithmetic.
///
/// GRDB formats `Date` arguments through a `DateFormatter`, which loads ICU (about 3 MiB resident) the first time and
/// costs about 2 % of a callback's CPU; the hot and the idle queries bind this instead. The text is the same, so
/// comparisons with stored dates are unchanged (`StorageTimestampTests` checks it against GRDB's own).
struct StorageTimestamp: DatabaseValueConvertible, Sendable {
    let date: Date

    init(_ date: Date) {
        self.date = date
    }

    // Before 1970 `DateFormatter` rounds differently; no stored date is that old, so those go through GRDB itself.
    var databaseValue: DatabaseValue { date.timeIntervalSince1970 >= 0 ? Self.text(date).databaseValue : date.databaseValue }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StorageTimestamp? {
        Date.fromDatabaseValue(dbValue).map(StorageTimestamp.init)
    }

    /// The stored text of `date`, to the nearest millisecond as `DateFormatter` rounds.
    static func text(_ date: Date) -> String { UTCTimestampText.stored(date) }
}
