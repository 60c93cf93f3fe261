//! One tier of a composite store: its store (opened lazily when it was down at start), its timeout, and whether it
//! is fit to answer reads (`fresh`: up and caught up with the outbox).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use memlane_core::{Error, ErrorKind, MemoryStore, Result};

use super::config::{Role, TierConfig};
use super::NAME;

/// Opening a store: boxed, because opening goes back through the factory, which may open a composite.
type Opening<'a> = Pin<Box<dyn Future<Output = Result<Arc<dyn MemoryStore>>> + Send + 'a>>;

/// A tier. See the [module docs](self).
pub(crate) struct Tier {
    pub(crate) name: String,
    pub(crate) role: Role,
    url: String,
    pub(crate) timeout: Duration,
    store: RwLock<Option<Arc<dyn MemoryStore>>>,
    /// Up and caught up with the outbox: may answer reads. Cleared by a failure, set by the replayer.
    fresh: AtomicBool,
}

impl std::fmt::Debug for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tier")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("open", &self.store().is_some())
            .field("fresh", &self.is_fresh())
            .finish()
    }
}

impl Tier {
    /// A tier not opened yet.
    pub(crate) fn new(name: &str, c: &TierConfig) -> Self {
        Tier {
            name: name.to_owned(),
            role: c.role,
            url: c.url.clone(),
            timeout: Duration::from_millis(c.timeout_ms),
            store: RwLock::new(None),
            fresh: AtomicBool::new(false),
        }
    }

    /// Its store, when opened.
    pub(crate) fn store(&self) -> Option<Arc<dyn MemoryStore>> {
        self.store.read().ok().and_then(|s| s.clone())
    }

    /// Opens its store if it is not open yet (without the factory's embedder: the composite is wrapped as a whole).
    /// A boxed future: opening goes back through the factory, which may open a composite.
    pub(crate) fn open(&self) -> Opening<'_> {
        Box::pin(async move {
            if let Some(s) = self.store() {
                return Ok(s);
            }
            let mut opts = crate::OpenOptions::parse(&self.url)?;
            opts.options
                .entry("embedder".into())
                .or_insert_with(|| "none".into());
            let opening: Opening<'static> = Box::pin(crate::open_with(opts));
            let store = self.timed(opening).await?;
            if let Ok(mut slot) = self.store.write() {
                *slot = Some(store.clone());
            }
            Ok(store)
        })
    }

    /// Whether it may answer reads.
    pub(crate) fn is_fresh(&self) -> bool {
        self.fresh.load(Ordering::Acquire)
    }

    /// Marks it fit (or not) to answer reads.
    pub(crate) fn set_fresh(&self, fresh: bool) {
        let was = self.fresh.swap(fresh, Ordering::AcqRel);
        if was != fresh {
            if fresh {
                tracing::info!(backend = NAME, tier = %self.name, "tier is up and caught up");
            } else {
                tracing::warn!(backend = NAME, tier = %self.name, "tier is down or behind: reads skip it");
            }
        }
    }

    /// Runs one operation on it within its timeout; a timeout is [`ErrorKind::Unavailable`].
    pub(crate) async fn timed<T>(&self, op: impl Future<Output = Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(r) => r,
            Err(_) => Err(Error::unavailable(
                NAME,
                format!(
                    "tier {:?} did not answer within {} ms",
                    self.name,
                    self.timeout.as_millis()
                ),
                None,
            )),
        }
    }

    /// Runs `f` on its store within its timeout (unavailable when it is not open).
    pub(crate) async fn call<'a, T, F, Fut>(&'a self, f: F) -> Result<T>
    where
        F: FnOnce(Arc<dyn MemoryStore>) -> Fut,
        Fut: Future<Output = Result<T>> + 'a,
    {
        let Some(store) = self.store() else {
            return Err(Error::unavailable(
                NAME,
                format!("tier {:?} is not open", self.name),
                None,
            ));
        };
        self.timed(f(store)).await
    }
}

/// Whether an error means the tier failed (try the next one) rather than the request being wrong.
pub(crate) fn is_tier_failure(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Unavailable | ErrorKind::Internal | ErrorKind::Unsupported
    )
}
