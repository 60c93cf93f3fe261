//! The Prometheus metrics of one server, and their text exposition at `/metrics`.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `memlane_http_requests_total` | counter | `method`, `route`, `status` |
//! | `memlane_http_request_duration_seconds` | histogram | `method`, `route`, `status` |
//! | `memlane_http_rejected_total` | counter | `reason` (`overloaded`, `timeout`) |
//! | `memlane_store_operation_duration_seconds` | histogram | `backend`, `operation`, `outcome` (`ok` or an error code) |
//! | `memlane_store_errors_total` | counter | `backend`, `operation`, `kind` (an error code) |
//! | `memlane_backend_up` | gauge | `backend` (1 when its last health probe succeeded) |
//! | `memlane_backend_health_latency_seconds` | gauge | `backend` |
//! | `memlane_ttl_purged_total` | counter | |
//! | `memlane_ttl_purge_failures_total` | counter | |
//! | `memlane_ttl_purge_last_success_timestamp_seconds` | gauge | |
//! | `memlane_ttl_purge_interval_seconds` | gauge | |
//! | `memlane_outbox_lag` | gauge | `tier` (a composite store's tier: outbox changes it has yet to apply) |
//! | `memlane_compat_requests_total` | counter | `api` (`mem0`), `route` (the compat route's pattern, or `unsupported`) |
//! | `memlane_compat_deprecation_warnings_total` | counter | `api`: deprecation warnings logged (once per client) |
//!
//! Labels never carry a tenant, a user or an id: their number stays bounded. `route` is the route's pattern
//! (`/v1/memories/{id}`), or `unmatched`.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    backend: String,
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    backend: String,
    operation: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TierLabels {
    tier: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CompatLabels {
    api: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 0.5 ms to about 16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every metric of one server; cheap to clone (the families are shared).
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<Registry>,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Histograms<HttpLabels>,
    http_rejected: Family<ReasonLabels, Counter>,
    store_duration: Histograms<OpLabels>,
    store_errors: Family<ErrorLabels, Counter>,
    backend_up: Family<BackendLabels, Gauge>,
    backend_latency: Family<BackendLabels, Gauge<f64, AtomicU64>>,
    purged: Counter,
    purge_failures: Counter,
    purge_last_success: Gauge<f64, AtomicU64>,
    purge_interval: Gauge<f64, AtomicU64>,
    outbox_lag: Family<TierLabels, Gauge>,
    compat_requests: Family<CompatLabels, Counter>,
    compat_warnings: Family<ApiLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut r = Registry::default();
        let http_requests = Family::default();
        let http_duration: Histograms<HttpLabels> = Family::new_with_constructor(latency_histogram);
        let http_rejected = Family::default();
        let store_duration: Histograms<OpLabels> = Family::new_with_constructor(latency_histogram);
        let store_errors = Family::default();
        let backend_up = Family::default();
        let backend_latency = Family::default();
        let purged = Counter::default();
        let purge_failures = Counter::default();
        let purge_last_success = Gauge::default();
        let purge_interval = Gauge::default();
        let outbox_lag = Family::default();
        let compat_requests = Family::default();
        let compat_warnings = Family::default();
        r.register(
            "memlane_http_requests",
            "HTTP requests answered",
            http_requests.clone(),
        );
        r.register(
            "memlane_http_request_duration_seconds",
            "Time to answer an HTTP request (to the response head)",
            http_duration.clone(),
        );
        r.register(
            "memlane_http_rejected",
            "Requests refused by load shedding or timed out",
            http_rejected.clone(),
        );
        r.register(
            "memlane_store_operation_duration_seconds",
            "Time of a store operation",
            store_duration.clone(),
        );
        r.register(
            "memlane_store_errors",
            "Failed store operations",
            store_errors.clone(),
        );
        r.register(
            "memlane_backend_up",
            "1 when the backend's last health probe succeeded",
            backend_up.clone(),
        );
        r.register(
            "memlane_backend_health_latency_seconds",
            "Latency of the backend's last health probe",
            backend_latency.clone(),
        );
        r.register(
            "memlane_ttl_purged",
            "Expired memories purged",
            purged.clone(),
        );
        r.register(
            "memlane_ttl_purge_failures",
            "Failed runs of the TTL purge",
            purge_failures.clone(),
        );
        r.register(
            "memlane_ttl_purge_last_success_timestamp_seconds",
            "Unix time of the last successful TTL purge",
            purge_last_success.clone(),
        );
        r.register(
            "memlane_ttl_purge_interval_seconds",
            "The configured interval of the TTL purge",
            purge_interval.clone(),
        );
        r.register(
            "memlane_outbox_lag",
            "Changes of a composite store's record of truth that a tier has yet to apply",
            outbox_lag.clone(),
        );
        r.register(
            "memlane_compat_requests",
            "Requests to the deprecated compatibility routes",
            compat_requests.clone(),
        );
        r.register(
            "memlane_compat_deprecation_warnings",
            "Deprecation warnings logged for compatibility-route clients (once per client)",
            compat_warnings.clone(),
        );
        Metrics {
            registry: Arc::new(r),
            http_requests,
            http_duration,
            http_rejected,
            store_duration,
            store_errors,
            backend_up,
            backend_latency,
            purged,
            purge_failures,
            purge_last_success,
            purge_interval,
            outbox_lag,
            compat_requests,
            compat_warnings,
        }
    }

    /// Records an answered HTTP request.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = HttpLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Records a request refused for `reason` (`overloaded` or `timeout`).
    pub fn http_rejected(&self, reason: &'static str) {
        self.http_rejected
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Records a store operation; `outcome` is `Ok(())` or the error's kind.
    pub fn store_operation(
        &self,
        backend: &str,
        operation: &'static str,
        outcome: Result<(), memlane::ErrorKind>,
        elapsed: Duration,
    ) {
        let code = match outcome {
            Ok(()) => "ok",
            Err(kind) => kind.code(),
        };
        self.store_duration
            .get_or_create(&OpLabels {
                backend: backend.to_owned(),
                operation,
                outcome: code,
            })
            .observe(elapsed.as_secs_f64());
        if outcome.is_err() {
            self.store_errors
                .get_or_create(&ErrorLabels {
                    backend: backend.to_owned(),
                    operation,
                    kind: code,
                })
                .inc();
        }
    }

    /// Records a health probe of `backend`.
    pub fn backend_health(&self, backend: &str, up: bool, latency: Duration) {
        let labels = BackendLabels {
            backend: backend.to_owned(),
        };
        self.backend_up.get_or_create(&labels).set(i64::from(up));
        self.backend_latency
            .get_or_create(&labels)
            .set(latency.as_secs_f64());
    }

    /// Records a request to compatibility API `api` (e.g. `mem0`) on `route` (a pattern, or `unsupported`).
    pub fn compat_request(&self, api: &'static str, route: &'static str) {
        self.compat_requests
            .get_or_create(&CompatLabels { api, route })
            .inc();
    }

    /// Records a deprecation warning logged for a new client of compatibility API `api`.
    pub fn compat_warning(&self, api: &'static str) {
        self.compat_warnings.get_or_create(&ApiLabels { api }).inc();
    }

    /// Records the purge interval (for the purge-lag alert).
    pub fn purge_interval(&self, every: Duration) {
        self.purge_interval.set(every.as_secs_f64());
    }

    /// Records a TTL purge run: how many were purged, or a failure.
    pub fn purge_run(&self, result: Result<u64, ()>) {
        match result {
            Ok(n) => {
                self.purged.inc_by(n);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                self.purge_last_success.set(now.as_secs_f64());
            }
            Err(()) => {
                self.purge_failures.inc();
            }
        }
    }

    /// The OpenMetrics text exposition of every metric (content type [`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        for (tier, lag) in memlane::composite::outbox_lag_snapshot() {
            self.outbox_lag
                .get_or_create(&TierLabels { tier })
                .set(i64::try_from(lag).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_recorded_metrics() {
        let m = Metrics::new();
        m.http_request("GET", "/v1/memories/{id}", 200, Duration::from_millis(3));
        m.store_operation(
            "embedded",
            "get",
            Err(memlane::ErrorKind::NotFound),
            Duration::from_millis(1),
        );
        m.backend_health("embedded", true, Duration::from_millis(1));
        m.purge_run(Ok(3));
        let text = m.render();
        assert!(
            text.contains("memlane_http_request_duration_seconds_bucket{"),
            "{text}"
        );
        assert!(text.contains("route=\"/v1/memories/{id}\""), "{text}");
        assert!(text.contains("memlane_store_errors_total{backend=\"embedded\",operation=\"get\",kind=\"not_found\"} 1"), "{text}");
        assert!(
            text.contains("memlane_backend_up{backend=\"embedded\"} 1"),
            "{text}"
        );
        assert!(text.contains("memlane_ttl_purged_total 3"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
