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
    static func text(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainderFlooring(dividingBy: 86_400_000)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let seconds = millisecondOfDay / 1000
        var text = ""
        text.reserveCapacity(23)
        append(year, width: 4, to: &text)
        text.append("-")
        append(month, width: 2, to: &text)
        text.append("-")
        append(day, width: 2, to: &text)
        text.append(" ")
        append(seconds / 3600, width: 2, to: &text)
        text.append(":")
        append(seconds / 60 % 60, width: 2, to: &text)
        text.append(":")
        append(seconds % 60, width: 2, to: &text)
        text.append(".")
        append(millisecondOfDay % 1000, width: 3, to: &text)
        return text
    }

    /// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date `days` after 1970-01-01.
    private static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func append(_ value: Int64, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text.append(String(repeating: "0", count: width - digits.count)) }
        text.append(digits)
    }
}

extension Int64 {
    /// Quotient and remainder with the remainder never negative (dates before 1970).
    fileprivate func quotientAndRemainderFlooring(dividingBy divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
