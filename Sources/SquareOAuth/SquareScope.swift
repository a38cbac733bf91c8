/// Square OAuth permissions with a plain-words description for consent and connect pages.
public enum SquareScope {
    /// Known permission names and what they let the application do.
    public static let catalogue: [String: String] = [
        "MERCHANT_PROFILE_READ": "See your business name, locations and contact details",
        "MERCHANT_PROFILE_WRITE": "Change your business profile and locations",
        "PAYMENTS_READ": "See your payments and refunds",
        "PAYMENTS_WRITE": "Take payments and issue refunds for you",
        "PAYMENTS_WRITE_ADDITIONAL_RECIPIENTS": "Split payments with other recipients",
        "PAYMENTS_WRITE_IN_PERSON": "Take in-person payments for you",
        "PAYMENTS_WRITE_SHARED_ONFILE": "Charge cards on file shared with you",
        "CUSTOMERS_READ": "See your customer directory",
        "CUSTOMERS_WRITE": "Add and change customers",
        "ITEMS_READ": "See your item library",
        "ITEMS_WRITE": "Change your item library",
        "ORDERS_READ": "See your orders",
        "ORDERS_WRITE": "Create and change orders",
        "INVENTORY_READ": "See your inventory counts",
        "INVENTORY_WRITE": "Change your inventory counts",
        "EMPLOYEES_READ": "See your team members",
        "EMPLOYEES_WRITE": "Change your team members",
        "TIMECARDS_READ": "See team timecards",
        "TIMECARDS_WRITE": "Change team timecards",
        "TIMECARDS_SETTINGS_READ": "See timecard settings",
        "TIMECARDS_SETTINGS_WRITE": "Change timecard settings",
        "BANK_ACCOUNTS_READ": "See your linked bank accounts",
        "INVOICES_READ": "See your invoices",
        "INVOICES_WRITE": "Create and send invoices",
        "SUBSCRIPTIONS_READ": "See customer subscriptions",
        "SUBSCRIPTIONS_WRITE": "Manage customer subscriptions",
        "LOYALTY_READ": "See your loyalty program",
        "LOYALTY_WRITE": "Manage loyalty accounts and rewards",
        "APPOINTMENTS_READ": "See your appointments",
        "APPOINTMENTS_WRITE": "Book and change appointments",
        "APPOINTMENTS_ALL_READ": "See every team member's appointments",
        "APPOINTMENTS_ALL_WRITE": "Change every team member's appointments",
        "APPOINTMENTS_BUSINESS_SETTINGS_READ": "See your booking settings",
        "GIFTCARDS_READ": "See your gift cards",
        "GIFTCARDS_WRITE": "Issue and change gift cards",
        "DEVICE_CREDENTIAL_MANAGEMENT": "Sign in Square Terminal devices",
        "DISPUTES_READ": "See payment disputes",
        "DISPUTES_WRITE": "Respond to payment disputes",
        "CASH_DRAWER_READ": "See cash drawer shifts",
        "SETTLEMENTS_READ": "See deposits to your bank",
        "PAYOUTS_READ": "See your payouts",
        "ONLINE_STORE_SITE_READ": "See your Square Online sites",
        "ONLINE_STORE_SNIPPETS_READ": "See snippets on your online store",
        "ONLINE_STORE_SNIPPETS_WRITE": "Add snippets to your online store",
        "VENDOR_READ": "See your vendors",
        "VENDOR_WRITE": "Change your vendors",
        "RESERVATIONS_READ": "See your reservations",
        "RESERVATIONS_WRITE": "Change your reservations",
    ]

    /// Plain words for a permission; unknown names are shown as they are.
    public static func describe(_ scope: String) -> String { catalogue[scope] ?? scope }

    /// The same words for the platform's operators, about the merchant rather than to them ("See the merchant's
    /// payments and refunds"); unknown names are shown as they are.
    public static func describeForOperator(_ scope: String) -> String {
        guard let words = catalogue[scope] else { return scope }
        return words.replacingOccurrences(of: "your ", with: "the merchant's ")
            .replacingOccurrences(of: " for you", with: " for the merchant")
            .replacingOccurrences(of: " with you", with: " with the platform")
    }

    /// Whether Square knows this permission name.
    public static func isKnown(_ scope: String) -> Bool { catalogue[scope] != nil }

    /// Splits a `scope` parameter on spaces, `+` or commas, dropping empties and duplicates, keeping order.
    public static func parse(_ text: String) -> [String] {
        var seen = Set<String>()
        return text.split(whereSeparator: { $0 == " " || $0 == "+" || $0 == "," })
            .map(String.init)
            .filter { seen.insert($0).inserted }
    }
}
