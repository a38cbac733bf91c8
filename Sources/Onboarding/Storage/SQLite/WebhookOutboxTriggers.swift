/// The partner webhook outbox, filled by the database itself: each change to a partner's connection adds its event
/// in the same transaction as the change, so no event is lost and none is made for a change that rolled back.
///
/// One trigger per event type; each adds a row only for a partner with a webhook URL. The payload follows the
/// Standard Webhooks shape `{"type","timestamp","data"}`; the row's id is the message id partners deduplicate on.
enum WebhookOutboxTriggers {
    /// The event types partners receive (the partner API's `GET /events?type=` names one).
    static let types = [
        "connection.created", "connection.reconnected", "connection.refreshed", "connection.refresh_failed",
        "connection.recovered", "connection.revoked", "onboarding_link.completed",
    ]

    /// When each event is made, as the triggers' `WHEN`; shared by the migrations that made them (the text never changes).
    private enum Condition {
        static let refreshed = """
            NEW.partnerId IS NOT NULL AND NEW.connectedAt = OLD.connectedAt AND NEW.status = 'active' \
            AND NEW.lastRefreshedAt IS NOT OLD.lastRefreshedAt
            """
        static let refreshFailed = """
            NEW.partnerId IS NOT NULL AND (NEW.refreshFailureCount > OLD.refreshFailureCount \
            OR (NEW.status = 'needs_reauth' AND OLD.status <> 'needs_reauth'))
            """
        static let recovered = """
            NEW.partnerId IS NOT NULL AND NEW.status = 'active' AND NEW.connectedAt = OLD.connectedAt \
            AND (OLD.status IN ('needs_reauth', 'expired') OR (OLD.refreshFailureCount > 0 AND NEW.refreshFailureCount = 0))
            """
        static let revoked = "NEW.partnerId IS NOT NULL AND NEW.status = 'revoked' AND OLD.status <> 'revoked'"
        /// From v11: a partner new to the connection, or a connection connected again after its revocation.
        static let createdOnUpdate = """
            NEW.partnerId IS NOT NULL AND (OLD.partnerId IS NOT NEW.partnerId \
            OR (OLD.status = 'revoked' AND NEW.connectedAt <> OLD.connectedAt))
            """
        /// From v11: the partner that holds a live connection connected it again.
        static let reconnected = "OLD.partnerId = NEW.partnerId AND NEW.connectedAt <> OLD.connectedAt AND OLD.status <> 'revoked'"
    }

    static var all: String {
        [
            trigger("webhook_connection_created_insert", on: "INSERT", type: "connection.created", when: "NEW.partnerId IS NOT NULL"),
            trigger(
                "webhook_connection_created_adopted",
                on: "UPDATE",
                type: "connection.created",
                when: "OLD.partnerId IS NULL AND NEW.partnerId IS NOT NULL"
            ),
            trigger(
                "webhook_connection_reconnected",
                on: "UPDATE",
                type: "connection.reconnected",
                when: "OLD.partnerId = NEW.partnerId AND NEW.connectedAt <> OLD.connectedAt"
            ),
            trigger(
                "webhook_connection_refreshed",
                on: "UPDATE",
                type: "connection.refreshed",
                when: Condition.refreshed
            ),
            trigger(
                "webhook_connection_refresh_failed",
                on: "UPDATE",
                type: "connection.refresh_failed",
                when: Condition.refreshFailed
            ),
            trigger(
                "webhook_connection_recovered",
                on: "UPDATE",
                type: "connection.recovered",
                when: Condition.recovered
            ),
            trigger(
                "webhook_connection_revoked",
                on: "UPDATE",
                type: "connection.revoked",
                when: Condition.revoked
            ),
        ].joined(separator: "\n")
    }

    /// Migration v11's change: a connection a partner takes over (from nobody, or after another partner's was revoked),
    /// or connects again after it was revoked, is `connection.created` for that partner; `connection.reconnected` is
    /// only a live connection connected again by the partner that holds it.
    static var v11: String {
        """
        DROP TRIGGER "webhook_connection_created_adopted";
        DROP TRIGGER "webhook_connection_reconnected";
        """
            + [
                trigger(
                    "webhook_connection_created_update",
                    on: "UPDATE",
                    type: "connection.created",
                    when: Condition.createdOnUpdate
                ),
                trigger(
                    "webhook_connection_reconnected",
                    on: "UPDATE",
                    type: "connection.reconnected",
                    when: Condition.reconnected
                ),
            ].joined(separator: "\n")
    }

    /// The triggers before v12, dropped by it: it rebuilds the outbox table they write to.
    static let dropBeforeV12 = [
        "webhook_connection_created_insert", "webhook_connection_created_update", "webhook_connection_reconnected",
        "webhook_connection_refreshed", "webhook_connection_refresh_failed", "webhook_connection_recovered",
        "webhook_connection_revoked",
    ].map { "DROP TRIGGER \"\($0)\";" }.joined(separator: "\n")

    /// Migration v12's triggers: the v11 rules, with `link_id` in every connection event (the link that connected it,
    /// on `created` and `reconnected`; null on the others, which no link caused) and `onboarding_link.completed` when
    /// a link gets its result.
    static var v12: String {
        let connected = "NEW.\"partnerLinkId\""
        return [
            trigger(
                "webhook_connection_created_insert",
                on: "INSERT",
                type: "connection.created",
                when: "NEW.partnerId IS NOT NULL",
                linkId: connected
            ),
            trigger(
                "webhook_connection_created_update",
                on: "UPDATE",
                type: "connection.created",
                when: Condition.createdOnUpdate,
                linkId: connected
            ),
            trigger(
                "webhook_connection_reconnected",
                on: "UPDATE",
                type: "connection.reconnected",
                when: Condition.reconnected,
                linkId: connected
            ),
            trigger(
                "webhook_connection_refreshed",
                on: "UPDATE",
                type: "connection.refreshed",
                when: Condition.refreshed,
                linkId: "NULL"
            ),
            trigger(
                "webhook_connection_refresh_failed",
                on: "UPDATE",
                type: "connection.refresh_failed",
                when: Condition.refreshFailed,
                linkId: "NULL"
            ),
            trigger(
                "webhook_connection_recovered",
                on: "UPDATE",
                type: "connection.recovered",
                when: Condition.recovered,
                linkId: "NULL"
            ),
            trigger(
                "webhook_connection_revoked",
                on: "UPDATE",
                type: "connection.revoked",
                when: Condition.revoked,
                linkId: "NULL"
            ),
            """
            CREATE TRIGGER "webhook_onboarding_link_completed" AFTER UPDATE OF "result" ON "onboardingLink"
            WHEN OLD."result" IS NULL AND NEW."result" IS NOT NULL
            BEGIN
                INSERT INTO "webhookDelivery" ("id", "partnerId", "type", "merchantId", "payload", "createdAt")
                SELECT 'msg_' || lower(hex(randomblob(16))), "partner"."id", 'onboarding_link.completed', NEW."merchantId",
                    json_object(
                        'type', 'onboarding_link.completed',
                        'timestamp', replace(NEW."usedAt", ' ', 'T') || 'Z',
                        'data', json_object(
                            'link_id', NEW."id",
                            'reference', NEW."reference",
                            'result', NEW."result",
                            'error', NEW."resultError",
                            'merchant_id', NEW."merchantId")),
                    NEW."usedAt"
                FROM "partner" WHERE "partner"."id" = NEW."partnerId" AND "partner"."webhookUrl" IS NOT NULL;
            END;
            """,
        ].joined(separator: "\n")
    }

    /// A connection event's trigger: as v9 and v11 made it without `linkId` (their text never changes), with the event's
    /// `link_id` from v12 on (`linkId` is its SQL).
    private static func trigger(_ name: String, on event: String, type: String, when condition: String, linkId: String? = nil) -> String {
        let reason = #"'reason', CASE WHEN NEW."status" = 'active' THEN NULL ELSE NEW."lastError" END"#
        let lastFields = linkId.map { "\(reason),\n                'link_id', \($0)" } ?? reason
        return """
            CREATE TRIGGER "\(name)" AFTER \(event) ON "connection" WHEN \(condition)
            BEGIN
                INSERT INTO "webhookDelivery" ("id", "partnerId", "type", "merchantId", "payload", "createdAt")
                SELECT 'msg_' || lower(hex(randomblob(16))), "partner"."id", '\(type)', NEW."merchantId",
                    json_object(
                        'type', '\(type)',
                        'timestamp', replace(NEW."updatedAt", ' ', 'T') || 'Z',
                        'data', json_object(
                            'merchant_id', NEW."merchantId",
                            'reference', NEW."partnerReference",
                            'status', NEW."status",
                            'environment', NEW."environment",
                            'revoked_by', NEW."revokedBy",
                            \(lastFields))),
                    NEW."updatedAt"
                FROM "partner" WHERE "partner"."id" = NEW."partnerId" AND "partner"."webhookUrl" IS NOT NULL;
            END;
            """
    }
}
