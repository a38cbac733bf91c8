import Metrics
import Prometheus

/// The process's metrics: swift-metrics bootstrapped once with a Prometheus registry that `/metrics` renders.
enum Telemetry {
    /// The registry every metric of the process lands in; the first use bootstraps swift-metrics with it.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Counts a refresh attempt by how it ended.
    static func refreshed(_ outcome: TokenRefresher.Outcome) {
        Counter(label: "square_onboard_refreshes_total", dimensions: [("outcome", outcome.metricName)]).increment()
    }

    /// Counts a status check by what it found.
    static func checked(_ outcome: TokenStatusChecker.Outcome) {
        Counter(label: "square_onboard_status_checks_total", dimensions: [("outcome", outcome.metricName)]).increment()
    }

    /// Sets the connections-by-status gauge, every status present so a drop to zero shows.
    static func connections(_ counts: [ConnectionStatus: Int]) {
        for status in ConnectionStatus.allCases {
            Gauge(label: "square_onboard_connections", dimensions: [("status", status.rawValue)]).record(counts[status] ?? 0)
        }
    }

    /// Counts a partner webhook attempt by event type and outcome (`delivered`, `failed`, `gave_up`).
    static func webhookDelivered(type: String, outcome: String) {
        Counter(label: "square_onboard_webhook_deliveries_total", dimensions: [("type", type), ("outcome", outcome)]).increment()
    }

    /// Sets how many partner webhooks wait to be sent or retried.
    static func webhookOutbox(pending: Int) {
        Gauge(label: "square_onboard_webhook_outbox_pending").record(pending)
    }
}

extension TokenRefresher.Outcome {
    /// The outcome's label value.
    var metricName: String {
        switch self {
        case .refreshed: "refreshed"
        case .notDue: "not_due"
        case .busy: "busy"
        case .needsReauth: "needs_reauth"
        case .retryLater: "retry_later"
        case .notRefreshable: "not_refreshable"
        case .notFound: "not_found"
        case .revokedMeanwhile: "revoked_meanwhile"
        }
    }
}

extension TokenStatusChecker.Outcome {
    /// The outcome's label value.
    var metricName: String {
        switch self {
        case .valid: "valid"
        case .expired: "expired"
        case .revoked: "revoked"
        case .needsReauth: "needs_reauth"
        case .unknown: "unknown"
        case .notCheckable: "not_checkable"
        case .notFound: "not_found"
        }
    }
}
