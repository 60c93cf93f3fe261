//! Which tier answered a read, and whether the answer is degraded.
//!
//! The composite's inherent read methods return [`Served`]. Through the [`memlane_core::MemoryStore`] trait the
//! same facts are reported to [`observe`]: a caller (the HTTP server, to set its `Memlane-Degraded` header) runs a
//! store call inside `observe` and gets the report of the reads it made.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (value, report) = memlane::composite::observe(async { 42 }).await;
//! assert_eq!((value, report), (42, None)); // no composite read happened: nothing to report
//! # }
//! ```

use std::cell::RefCell;
use std::future::Future;

use memlane_core::SearchMode;

/// A read's result with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Served<T> {
    /// The result.
    pub value: T,
    /// The tier that answered.
    pub tier: String,
    /// `Some` when the answer is degraded (see [`Degraded`]).
    pub degraded: Option<Degraded>,
}

impl<T> Served<T> {
    /// Whether the answer is degraded.
    pub fn is_degraded(&self) -> bool {
        self.degraded.is_some()
    }
}

/// Why an answer is degraded: a preferred tier failed or was skipped (down, or behind the outbox) and a later one
/// answered, or the record of truth is down (the answer cannot be confirmed), or a semantic search fell back to
/// keyword search, or the answer is stale.
#[derive(Debug, Clone, PartialEq)]
pub struct Degraded {
    /// The tier that answered.
    pub tier: String,
    /// The tiers skipped or failed before it, with why.
    pub skipped: Vec<(String, String)>,
    /// The search mode actually used, when it differs from the one asked for.
    pub fallback_mode: Option<SearchMode>,
    /// The tier that answered is behind the outbox (the record of truth was down, so nothing fresher could answer):
    /// the answer may miss the latest writes. See [`Routing::serve_stale`](super::Routing::serve_stale).
    pub stale: bool,
}

impl std::fmt::Display for Degraded {
    /// The `Memlane-Degraded` header value: `tier=NAME; skipped=A,B; mode=keyword; stale`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tier={}", self.tier)?;
        if !self.skipped.is_empty() {
            let names: Vec<&str> = self.skipped.iter().map(|(n, _)| n.as_str()).collect();
            write!(f, "; skipped={}", names.join(","))?;
        }
        if let Some(m) = self.fallback_mode {
            write!(f, "; mode={m}")?;
        }
        if self.stale {
            f.write_str("; stale")?;
        }
        Ok(())
    }
}

tokio::task_local! {
    static REPORT: RefCell<Option<Degraded>>;
}

/// Runs `fut` and returns, with its output, the degradation of the composite reads it made (the last one, if
/// several were degraded); `None` when every read was served normally.
pub async fn observe<F: Future>(fut: F) -> (F::Output, Option<Degraded>) {
    REPORT
        .scope(RefCell::new(None), async move {
            let out = fut.await;
            let report = REPORT.with(|r| r.borrow_mut().take());
            (out, report)
        })
        .await
}

/// Records a degraded read for [`observe`] (nothing happens outside of it).
pub(crate) fn report(d: &Degraded) {
    let _ = REPORT.try_with(|r| *r.borrow_mut() = Some(d.clone()));
}
