//! WAL checkpoints off the write path.
//!
//! SQLite appends each commit to the write-ahead log, and a checkpoint copies the logged pages back into the
//! database file (with `sync=full`, two more fsyncs). Left to SQLite, the commit that fills the log to 1,000 pages
//! runs the checkpoint itself, and a quarter of a batch add's time went there. Here the writer only signals after
//! each commit; a background task waits [`DELAY`] (so one checkpoint covers many commits), then runs a `PASSIVE`
//! checkpoint on a reader connection: it never blocks the writer or readers, and the log restarts from its
//! beginning once a checkpoint has caught up. Should the task fall behind, the writer still checkpoints by
//! itself at [`FALLBACK_PAGES`].

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use super::error::{self, map, NAME};
use super::Inner;

/// How long after a commit the checkpoint runs.
pub(crate) const DELAY: Duration = Duration::from_millis(100);
/// The log size (pages) at which the writer checkpoints by itself (SQLite's `wal_autocheckpoint`).
pub(crate) const FALLBACK_PAGES: i64 = 8192;

/// Checkpoints the store's log [`DELAY`] after each signal on `wake`, until the store is dropped.
pub(crate) async fn run(inner: Weak<Inner>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        tokio::time::sleep(DELAY).await;
        let Some(inner) = inner.upgrade() else { return };
        let res = tokio::task::spawn_blocking(move || {
            let conn = inner.readers.get().map_err(error::pool)?;
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .map_err(map)
        })
        .await;
        match res {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(backend = NAME, error = %e, "WAL checkpoint failed"),
            Err(e) => tracing::warn!(backend = NAME, error = %e, "WAL checkpoint task failed"),
        }
    }
}
