//! Health probes: each backend's status and latency, probed in the background and cached, so that
//! `/health/ready` answers at once and never piles load on a struggling backend.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use memlane::{MemoryStore, Timestamp};
use serde::Serialize;

use crate::metrics::Metrics;

/// Whether a backend answered its last probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendStatus {
    /// `health()` succeeded within the probe timeout.
    Ok,
    /// `health()` failed or timed out.
    Unavailable,
}

/// One backend's last probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendHealth {
    /// The backend's name (`embedded`, `redis`, ...).
    pub backend: String,
    /// Its status.
    pub status: BackendStatus,
    /// How long the probe took, in milliseconds.
    pub latency_ms: f64,
    /// When it was probed.
    pub checked_at: Timestamp,
    /// Why it is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Whether the server should receive traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Every backend is up.
    Ok,
    /// Some backend is down.
    Unavailable,
    /// The server is shutting down.
    Draining,
}

/// The answer of `/health/ready`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// Overall.
    pub status: Readiness,
    /// Each backend's last probe.
    pub backends: Vec<BackendHealth>,
}

/// Probes `store` once, within `timeout`, recording the result in `metrics`.
pub(crate) async fn probe(
    store: &dyn MemoryStore,
    timeout: Duration,
    metrics: &Metrics,
) -> BackendHealth {
    let start = Instant::now();
    let res = tokio::time::timeout(timeout, store.health()).await;
    let latency = start.elapsed();
    let error = match res {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {timeout:?}")),
    };
    let up = error.is_none();
    metrics.backend_health(store.name(), up, latency);
    if let Some(e) = &error {
        tracing::warn!(backend = store.name(), error = %e, "health probe failed");
    }
    BackendHealth {
        backend: store.name().to_owned(),
        status: if up {
            BackendStatus::Ok
        } else {
            BackendStatus::Unavailable
        },
        latency_ms: latency.as_secs_f64() * 1000.0,
        checked_at: Timestamp::now(),
        error,
    }
}

/// The last probe of every backend.
#[derive(Debug, Default)]
pub(crate) struct HealthCache {
    backends: RwLock<Vec<BackendHealth>>,
}

impl HealthCache {
    /// Replaces the cached probes.
    pub(crate) fn set(&self, backends: Vec<BackendHealth>) {
        *self.backends.write().unwrap_or_else(|p| p.into_inner()) = backends;
    }

    /// The report, `draining` or not.
    pub(crate) fn report(&self, draining: bool) -> HealthReport {
        let backends = self
            .backends
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let status = if draining {
            Readiness::Draining
        } else if backends.iter().all(|b| b.status == BackendStatus::Ok) {
            Readiness::Ok
        } else {
            Readiness::Unavailable
        };
        HealthReport { status, backends }
    }
}
