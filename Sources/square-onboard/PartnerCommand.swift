import ArgumentParser
import Onboarding

/// `square-onboard partner …`: the platforms that send merchants here and call the partner API.
struct PartnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partner",
        abstract: "Add, list, change and remove partners, and roll their API keys and signing secrets.",
        discussion: """
            A partner calls the API (/api/v1) with an API key and gets its merchants back on an allowed return URL, \
            signed with its signing secret (also used for its webhooks). Keys and secrets are printed once, when made. \
            Reads the same settings as 'serve' (the encryption keys seal the signing secret).
            """,
        subcommands: [Add.self, List.self, Update.self, Remove.self, RotateKey.self, RevokeKey.self, RotateWebhookSecret.self]
    )

    /// A partner's name, checked before anything is read.
    struct Name: ParsableArguments {
        @Argument(help: ArgumentHelp("The partner's short name: 1 to 40 of a-z, 0-9 and '-'.", valueName: "name"))
        var name: String

        func validate() throws {
            guard PartnerOperations.isValidName(name) else {
                throw ValidationError("'<name>' must be 1 to 40 of a-z, 0-9 and '-', not starting with '-' (got '\(name)')")
            }
        }
    }

    /// `partner add NAME --return-url URL …`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a partner; prints its first API key and its signing secret, once.",
            discussion: SettingFlags.help
        )

        @OptionGroup var name: Name
        @Option(help: ArgumentHelp("The name merchants see on the connect page (default: the short name).", valueName: "text"))
        var displayName: String?
        @Option(
            name: .customLong("return-url"),
            help: ArgumentHelp(
                "An allowed return URL: exact origin and path prefix, https (http only on localhost). Repeat for more.",
                valueName: "url"
            )
        )
        var returnURLs: [String] = []
        @Option(name: .customLong("popup-origin"), help: ArgumentHelp("An origin popup mode may report to. Repeat for more.", valueName: "origin"))
        var popupOrigins: [String] = []
        @Option(name: .customLong("webhook-url"), help: ArgumentHelp("Where webhooks go (https; http only on localhost).", valueName: "url"))
        var webhookURL: String?
        @OptionGroup var settings: SettingFlags

        func validate() throws {
            guard !returnURLs.isEmpty else { throw ValidationError("Missing '--return-url <url>': a partner needs at least one") }
        }

        func run() async throws {
            let lines = try await PartnerOperations.add(
                location: try await settings.storeLocation(),
                name: name.name,
                displayName: displayName,
                returnURLs: returnURLs,
                popupOrigins: popupOrigins,
                webhookURL: webhookURL,
                logger: Console.logger(level: .warning)
            )
            lines.forEach(Console.line)
        }
    }

    /// `partner list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List partners: settings, and API keys by prefix with their last use.",
            discussion: SettingFlags.help
        )
        @OptionGroup var settings: SettingFlags

        func run() async throws {
            try await PartnerOperations.list(location: try await settings.storeLocation(), logger: Console.logger(level: .warning))
                .forEach(Console.line)
        }
    }

    /// `partner update NAME …`.
    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a partner's display name, return URLs, popup origins or webhook URL (a list given replaces the list).",
            discussion: SettingFlags.help
        )

        @OptionGroup var name: Name
        @Option(help: ArgumentHelp("The name merchants see.", valueName: "text"))
        var displayName: String?
        @Option(name: .customLong("return-url"), help: ArgumentHelp("Allowed return URLs (replaces them all).", valueName: "url"))
        var returnURLs: [String] = []
        @Option(name: .customLong("popup-origin"), help: ArgumentHelp("Allowed popup origins (replaces them all).", valueName: "origin"))
        var popupOrigins: [String] = []
        @Flag(name: .customLong("no-popup-origins"), help: "Remove every popup origin.")
        var noPopupOrigins = false
        @Option(name: .customLong("webhook-url"), help: ArgumentHelp("Where webhooks go.", valueName: "url"))
        var webhookURL: String?
        @Flag(name: .customLong("no-webhook"), help: "Send no webhooks.")
        var noWebhook = false
        @OptionGroup var settings: SettingFlags

        func run() async throws {
            let webhook: String?? = noWebhook ? .some(nil) : webhookURL.map { .some($0) }
            try await PartnerOperations.update(
                location: try await settings.storeLocation(),
                name: name.name,
                displayName: displayName,
                returnURLs: returnURLs.isEmpty ? nil : returnURLs,
                popupOrigins: noPopupOrigins ? [] : (popupOrigins.isEmpty ? nil : popupOrigins),
                webhookURL: webhook,
                logger: Console.logger(level: .warning)
            ).forEach(Console.line)
        }
    }

    /// `partner remove NAME`.
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a partner with its API keys and links; its connections stay.",
            discussion: SettingFlags.help
        )
        @OptionGroup var name: Name
        @OptionGroup var settings: SettingFlags

        func run() async throws {
            try await PartnerOperations.remove(
                location: try await settings.storeLocation(),
                name: name.name,
                logger: Console.logger(level: .warning)
            )
            .forEach(Console.line)
        }
    }

    /// `partner rotate-key NAME`.
    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Issue a new API key (printed once) beside the live ones; revoke the old one when the partner has switched.",
            discussion: SettingFlags.help
        )
        @OptionGroup var name: Name
        @OptionGroup var settings: SettingFlags

        func run() async throws {
            try await PartnerOperations.rotateKey(
                location: try await settings.storeLocation(),
                name: name.name,
                logger: Console.logger(level: .warning)
            )
            .forEach(Console.line)
        }
    }

    /// `partner revoke-key NAME PREFIX`.
    struct RevokeKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-key",
            abstract: "End one API key, named by its prefix (sok_XXXXXXXX, as partner list shows it).",
            discussion: SettingFlags.help
        )
        @OptionGroup var name: Name
        @Argument(help: ArgumentHelp("The key's prefix.", valueName: "prefix"))
        var prefix: String
        @OptionGroup var settings: SettingFlags

        func run() async throws {
            try await PartnerOperations.revokeKey(
                location: try await settings.storeLocation(),
                name: name.name,
                prefix: String(prefix.prefix(12)),
                logger: Console.logger(level: .warning)
            ).forEach(Console.line)
        }
    }

    /// `partner rotate-webhook-secret NAME`.
    struct RotateWebhookSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-webhook-secret",
            abstract: "Replace the signing secret of webhooks and return URLs; prints the new one once.",
            discussion: SettingFlags.help
        )
        @OptionGroup var name: Name
        @OptionGroup var settings: SettingFlags

        func run() async throws {
            try await PartnerOperations.rotateSigningSecret(
                location: try await settings.storeLocation(),
                name: name.name,
                logger: Console.logger(level: .warning)
            ).forEach(Console.line)
        }
    }
}
