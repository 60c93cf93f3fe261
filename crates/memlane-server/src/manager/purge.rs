//! The TTL purge task: deletes expired memories every interval, so that they are gone (not only hidden) within a
//! bounded time, even on backends without their own sweeper.

use std::sync::Arc;
use std::time::Duration;

use memlane::MemoryStore;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// Calls `store.purge_expired()` every `every` until `cancel` fires.
pub(crate) async fn run(
    store: Arc<dyn MemoryStore>,
    every: Duration,
    metrics: Metrics,
    cancel: CancellationToken,
) {
    metrics.purge_interval(every);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let res = tokio::select! {
            () = cancel.cancelled() => return,
            res = store.purge_expired() => res,
        };
        match res {
            Ok(n) => {
                metrics.purge_run(Ok(n));
                if n > 0 {
                    tracing::info!(
                        backend = store.name(),
                        purged = n,
                        "purged expired memories"
                    );
                }
            }
            Err(e) => {
                metrics.purge_run(Err(()));
                tracing::warn!(backend = store.name(), error = %e, "TTL purge failed");
            }
        }
    }
}
