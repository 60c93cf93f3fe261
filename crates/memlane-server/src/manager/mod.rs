//! [`MemoryManager`]: the store the server serves, built from the config, with its layers and background tasks.
//!
//! It opens the store through [`memlane::open`], wraps it in the tracing and metrics layers, probes its health
//! once before serving and then every `health_interval`, and purges expired memories every `purge_interval`. The
//! tasks stop on [`MemoryManager::shutdown`], or when the manager is dropped.

mod health;
mod purge;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use memlane::MemoryStore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use health::{BackendHealth, BackendStatus, HealthReport, Readiness};

use crate::layers::{MetricsStore, TracingStore};
use crate::metrics::Metrics;
use crate::ServerConfig;
use health::HealthCache;

/// The store of a server and the tasks around it. Dropping it stops the tasks.
#[derive(Debug)]
pub struct MemoryManager {
    store: Arc<dyn MemoryStore>,
    metrics: Metrics,
    health: Arc<HealthCache>,
    draining: AtomicBool,
    cancel: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl MemoryManager {
    /// Opens the store `config.store` names and starts the manager (see [`MemoryManager::start`]).
    pub async fn open(config: &ServerConfig) -> memlane::Result<Self> {
        let store = memlane::open(&config.store).await?;
        tracing::info!(
            backend = store.name(),
            store = %crate::config::redact_url(&config.store),
            "store opened"
        );
        Ok(Self::start(store, config).await)
    }

    /// Serves `store`: wraps it in the tracing and metrics layers, probes its health once, and starts the TTL
    /// purge and health probe tasks (on the current Tokio runtime).
    pub async fn start(store: Arc<dyn MemoryStore>, config: &ServerConfig) -> Self {
        let metrics = Metrics::new();
        let layered: Arc<dyn MemoryStore> = Arc::new(TracingStore::new(MetricsStore::new(
            store.clone(),
            metrics.clone(),
        )));
        let health = Arc::new(HealthCache::default());
        health.set(vec![
            health::probe(store.as_ref(), config.health_timeout, &metrics).await,
        ]);
        let cancel = CancellationToken::new();
        let purge = tokio::spawn(purge::run(
            layered.clone(),
            config.purge_interval,
            metrics.clone(),
            cancel.child_token(),
        ));
        let probe = tokio::spawn(probe_loop(
            store,
            health.clone(),
            config.clone(),
            metrics.clone(),
            cancel.child_token(),
        ));
        MemoryManager {
            store: layered,
            metrics,
            health,
            draining: AtomicBool::new(false),
            cancel,
            tasks: Mutex::new(vec![purge, probe]),
        }
    }

    /// The store to serve (with its layers).
    pub fn store(&self) -> &Arc<dyn MemoryStore> {
        &self.store
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The last health probes, and whether the server is ready.
    pub fn health(&self) -> HealthReport {
        self.health.report(self.draining.load(Ordering::Relaxed))
    }

    /// Marks the server as shutting down: readiness answers `draining` from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Stops the background tasks and waits for them.
    pub async fn shutdown(&self) {
        self.start_draining();
        self.cancel.cancel();
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            if let Err(e) = t.await {
                if e.is_panic() {
                    tracing::error!(error = %e, "a background task panicked");
                }
            }
        }
    }
}

impl Drop for MemoryManager {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn probe_loop(
    store: Arc<dyn MemoryStore>,
    cache: Arc<HealthCache>,
    config: ServerConfig,
    metrics: Metrics,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(config.health_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first probe was done by `start`
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let result = tokio::select! {
            () = cancel.cancelled() => return,
            r = health::probe(store.as_ref(), config.health_timeout, &metrics) => r,
        };
        cache.set(vec![result]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probes_and_stops() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = memlane::open(&dir.path().display().to_string())
            .await
            .expect("open");
        let m = MemoryManager::start(store, &ServerConfig::default()).await;
        let report = m.health();
        assert_eq!(report.status, Readiness::Ok);
        assert_eq!(report.backends[0].backend, "embedded");
        m.shutdown().await;
        assert_eq!(m.health().status, Readiness::Draining);
        assert!(m.tasks.lock().expect("lock").is_empty());
    }
}
