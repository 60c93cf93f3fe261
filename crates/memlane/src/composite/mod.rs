//! The composite store: one memory over several stores ("tiers"), e.g. Redis for speed, PostgreSQL as the record
//! of truth and memlane's vector index for meaning, behind the same [`MemoryStore`] interface.
//!
//! - **Configuration**: a TOML file ([`CompositeConfig`]) of named tiers, each a store URL with a role (record of
//!   truth, cache, semantic index, keyword index), and a routing policy per read. Open it with
//!   `memlane::open("composite:///etc/memlane/composite.toml")` (a relative path after `composite://` is relative to
//!   the working directory) or [`CompositeStore::open`].
//! - **Writes** go to the record of truth, which must keep a change log ([`memlane_core::ChangeLog`]: PostgreSQL
//!   with `outbox=true`, or `memory://?outbox=true` in tests), written in the same transaction as the write. A write
//!   is acknowledged once durable there. The other tiers replay the log in order ([`replicate`](self) docs): each
//!   write replays it into the tiers that are up before returning (read-your-writes), and a background task catches
//!   up the tiers that were down, from their saved position in the log.
//! - **Reads** go to the first tier of their route that is up and caught up; when it fails or times out the next
//!   answers, and the answer is **degraded** ([`Served`], [`observe`]). Semantic search falls back to the record's
//!   pgvector, then to keyword search, and says so.
//! - **Repair**: [`CompositeStore::repair`] compares each tier with the record of truth (counts and per-scope
//!   checksums) and fixes the drift from the record.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> memlane::Result<()> {
//! use memlane::composite::{CompositeConfig, CompositeStore};
//! use memlane::{MemoryStore, MemoryStoreExt, NewMemory, Scope};
//! let config = CompositeConfig::from_toml(r#"
//!     [tiers.cache]
//!     url = "memory://"
//!     role = "cache"
//!     [tiers.records]
//!     url = "memory://?outbox=true"
//!     role = "record"
//! "#)?;
//! let store = CompositeStore::open(config).await?;
//! let m = store.add_one(NewMemory::new(Scope::tenant("acme"), "Alice likes tea")).await?;
//! let got = store.get_served("acme", m.id).await?;
//! assert_eq!((got.value.content.as_str(), got.tier.as_str()), ("Alice likes tea", "cache"));
//! assert!(!got.is_degraded());
//! # Ok(()) }
//! ```

mod config;
mod lag;
mod read;
mod repair;
mod replicate;
mod served;
mod tier;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use memlane_core::{
    AddOptions, Added, Capabilities, ChangeLog, Error, ErrorKind, Filter, ListQuery, Memory,
    MemoryId, MemoryStore, NewMemory, Page, Result, Scope, Scored, SearchMode, SearchQuery, Update,
};

pub use config::{
    env_var, CompositeConfig, OutboxConfig, Role, Routes, Routing, TierConfig, KEYWORD_FALLBACK,
};
pub use lag::outbox_lag_snapshot;
pub use repair::{RepairReport, TierDrift};
pub use served::{observe, Degraded, Served};

use replicate::{drain, DrainError};
use tier::Tier;

/// The backend's name, as carried by its errors.
pub(crate) const NAME: &str = "composite";

/// The composite store. See the [module docs](self). Dropping it stops its background replayer.
pub struct CompositeStore {
    inner: Arc<Inner>,
    replayer: Option<tokio::task::JoinHandle<()>>,
}

/// A route resolved to tiers.
#[derive(Debug, Clone)]
struct Route {
    tiers: Vec<Arc<Tier>>,
    /// Ends with the keyword fallback.
    keyword_fallback: bool,
}

struct Inner {
    config: CompositeConfig,
    record: Arc<Tier>,
    record_store: Arc<dyn MemoryStore>,
    /// Every tier but the record: the replicas of the outbox.
    replicas: Vec<Arc<Tier>>,
    get: Route,
    list: Route,
    count: Route,
    keyword: Route,
    semantic: Route,
    hybrid: Route,
    caps: Capabilities,
    /// The record of truth failed its last operation as unavailable.
    record_down: AtomicBool,
}

impl std::fmt::Debug for CompositeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeStore")
            .field("record", &self.inner.record)
            .field("replicas", &self.inner.replicas)
            .finish()
    }
}

impl Drop for CompositeStore {
    fn drop(&mut self) {
        if let Some(r) = self.replayer.take() {
            r.abort();
        }
    }
}

impl CompositeStore {
    /// Opens the tiers, catches them up with the outbox and starts the background replayer (which needs a Tokio
    /// runtime). The record of truth must be reachable and keep a change log; the other tiers may be down: they
    /// are opened and caught up when they come back.
    pub async fn open(config: CompositeConfig) -> Result<Self> {
        let tiers: BTreeMap<String, Arc<Tier>> = config
            .tiers
            .iter()
            .map(|(n, c)| (n.clone(), Arc::new(Tier::new(n, c))))
            .collect();
        let record = tiers
            .get(config.record())
            .cloned()
            .ok_or_else(|| Error::invalid("composite config", "no record tier"))?;
        let record_store = record.open().await?;
        if record_store.change_log().is_none() {
            return Err(Error::invalid(
                format!("composite config tiers.{}.url", record.name),
                format!(
                    "the record of truth must keep an outbox: the {} store does not (use PostgreSQL with \
                     outbox=true, or memory://?outbox=true)",
                    record_store.name()
                ),
            ));
        }
        let replicas: Vec<Arc<Tier>> = tiers
            .values()
            .filter(|t| t.role != Role::Record)
            .cloned()
            .collect();
        if let Some(log) = record_store.change_log() {
            for t in &replicas {
                log.register(&t.name).await?;
            }
        }
        for t in &replicas {
            if let Err(e) = t.open().await {
                tracing::warn!(backend = NAME, tier = %t.name, error = %e, "tier is down at start: retried in the background");
            }
        }
        let routes = config.routes();
        let resolve = |names: &[String]| Route {
            tiers: names.iter().filter_map(|n| tiers.get(n).cloned()).collect(),
            keyword_fallback: names.last().is_some_and(|n| n == KEYWORD_FALLBACK),
        };
        let (get, list, count) = (
            resolve(&routes.get),
            resolve(&routes.list),
            resolve(&routes.count),
        );
        let (keyword, semantic, hybrid) = (
            resolve(&routes.keyword),
            resolve(&routes.semantic),
            resolve(&routes.hybrid),
        );
        let caps = capabilities(&record_store, &keyword, &semantic, &hybrid);
        let inner = Arc::new(Inner {
            config,
            record,
            record_store,
            replicas,
            get,
            list,
            count,
            keyword,
            semantic,
            hybrid,
            caps,
            record_down: AtomicBool::new(false),
        });
        inner.catch_up().await;
        let every = Duration::from_millis(inner.config.outbox.interval_ms);
        let replayer = tokio::spawn(replay_loop(Arc::downgrade(&inner), every));
        Ok(CompositeStore {
            inner,
            replayer: Some(replayer),
        })
    }

    /// Opens the store a parsed `composite://PATH` URL names (the factory's entry); `PATH` is the TOML file.
    pub async fn open_with(opts: &mut crate::OpenOptions) -> Result<Arc<dyn MemoryStore>> {
        let path = opts.location.clone();
        if path.is_empty() {
            return Err(Error::invalid(
                "store",
                "composite:// needs the path of its TOML file, e.g. composite:///etc/memlane/composite.toml",
            ));
        }
        opts.finish()?;
        let config = CompositeConfig::from_file(&path)?;
        Ok(Arc::new(CompositeStore::open(config).await?))
    }

    /// Its configuration.
    pub fn config(&self) -> &CompositeConfig {
        &self.inner.config
    }

    /// The store of a tier, when it is open.
    pub fn tier(&self, name: &str) -> Option<Arc<dyn MemoryStore>> {
        self.inner.tier(name).and_then(|t| t.store())
    }

    /// The tiers that may answer reads now (up and caught up with the outbox); the record of truth always may.
    pub fn fresh_tiers(&self) -> Vec<String> {
        std::iter::once(&self.inner.record)
            .chain(self.inner.replicas.iter().filter(|t| t.is_fresh()))
            .map(|t| t.name.clone())
            .collect()
    }

    /// How many changes of the outbox each tier has yet to apply, by tier name (the outbox lag metric), read
    /// from the record now. The background replayer also publishes it every `outbox.interval_ms`
    /// ([`outbox_lag_snapshot`]).
    pub async fn outbox_lag(&self) -> Result<BTreeMap<String, u64>> {
        self.inner.lag().await
    }

    /// Replays the outbox into every tier that is reachable now, then trims it (what the background replayer does
    /// every `outbox.interval_ms`).
    pub async fn catch_up(&self) {
        self.inner.catch_up().await;
    }
}

/// The composite's capabilities: a search mode when a tier of its route offers it; the rest from the record.
fn capabilities(
    record: &Arc<dyn MemoryStore>,
    keyword: &Route,
    semantic: &Route,
    hybrid: &Route,
) -> Capabilities {
    let rc = record.capabilities();
    let offers = |route: &Route, mode: SearchMode, role: Role| {
        route.tiers.iter().any(|t| match t.store() {
            Some(s) => s.capabilities().supports(Capabilities::for_mode(mode)),
            None => t.role == role,
        })
    };
    let mut c = Capabilities::none();
    c.keyword_search = offers(keyword, SearchMode::Keyword, Role::Keyword);
    c.semantic_search = offers(semantic, SearchMode::Semantic, Role::Semantic);
    c.hybrid_search = offers(hybrid, SearchMode::Hybrid, Role::Record);
    c.ttl = rc.ttl;
    c.transactions = rc.transactions;
    c.durable = rc.durable;
    // Semantic queries go to the semantic route's tiers: the composite embeds text when they do.
    c.embeds_text = semantic
        .tiers
        .iter()
        .any(|t| t.store().is_some_and(|s| s.capabilities().embeds_text));
    c.limits = rc.limits;
    c
}

impl Inner {
    fn log(&self) -> Result<&dyn ChangeLog> {
        self.record_store
            .change_log()
            .ok_or_else(|| Error::internal(NAME, "the record of truth lost its change log", None))
    }

    fn tier(&self, name: &str) -> Option<&Arc<Tier>> {
        std::iter::once(&self.record)
            .chain(self.replicas.iter())
            .find(|t| t.name == name)
    }

    /// Notes whether the record of truth answered.
    fn note_record<T>(&self, r: &Result<T>) {
        let down = matches!(r, Err(e) if e.kind() == ErrorKind::Unavailable);
        self.record_down.store(down, Ordering::Release);
    }

    /// A write: on the record of truth (one transaction with its outbox entry), then replayed into the tiers that
    /// are up (unless `write_through` is off).
    async fn write<T>(&self, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let r = self.record.timed(op).await;
        self.note_record(&r);
        let v = r?;
        if self.config.outbox.write_through {
            self.replicate_now().await;
        }
        Ok(v)
    }

    /// Replays the outbox into the tiers that are up and caught up.
    async fn replicate_now(&self) {
        let Ok(log) = self.log() else { return };
        for t in self.replicas.iter().filter(|t| t.is_fresh()) {
            match drain(log, t, self.config.outbox.batch, t.timeout).await {
                Ok(_) => {}
                Err(DrainError::Busy) => {
                    tracing::debug!(backend = NAME, tier = %t.name, "another replayer holds the tier's lease");
                }
                Err(DrainError::Failed(e)) => {
                    tracing::warn!(backend = NAME, tier = %t.name, error = %e, "replay failed: the tier is behind");
                    t.set_fresh(false);
                }
            }
        }
    }

    /// Probes the record, opens the tiers that were down, catches them up, marks them fresh, trims the outbox.
    async fn catch_up(&self) {
        let probe = self.record.timed(self.record_store.health()).await;
        self.note_record(&probe);
        let Ok(log) = self.log() else { return };
        for t in &self.replicas {
            let up = match t.open().await {
                Ok(s) => t.timed(s.health()).await,
                Err(e) => Err(e),
            };
            if up.is_err() {
                t.set_fresh(false);
                continue;
            }
            let batch = self.config.outbox.batch;
            // A fresh tier is kept up by the writes: no need to wait for their lease. A tier behind waits its turn.
            let wait = if t.is_fresh() {
                Duration::ZERO
            } else {
                t.timeout
            };
            match drain(log, t, batch, wait).await {
                Ok(_) if t.is_fresh() => {}
                Ok(_) => {
                    // Mark it fresh, then drain once more: a write that saw it behind (and so did not replay into
                    // it) has committed before this second pass reads the log.
                    t.set_fresh(true);
                    if let Err(DrainError::Failed(_)) = drain(log, t, batch, t.timeout).await {
                        t.set_fresh(false);
                    }
                }
                Err(DrainError::Busy) => {}
                Err(DrainError::Failed(e)) => {
                    tracing::debug!(backend = NAME, tier = %t.name, error = %e, "catching up failed");
                    t.set_fresh(false);
                }
            }
        }
        self.trim(log).await;
    }

    async fn lag(&self) -> Result<BTreeMap<String, u64>> {
        let log = self.log()?;
        let head = log.head().await?;
        let mut out = BTreeMap::new();
        for t in &self.replicas {
            let at = log.cursor(&t.name).await?;
            out.insert(t.name.clone(), head.saturating_sub(at));
        }
        Ok(out)
    }

    /// Deletes the outbox entries every tier has applied.
    async fn trim(&self, log: &dyn ChangeLog) {
        let mut min = u64::MAX;
        for t in &self.replicas {
            match log.cursor(&t.name).await {
                Ok(c) => min = min.min(c),
                Err(_) => return,
            }
        }
        if min != u64::MAX && min > 0 {
            if let Err(e) = log.trim(min).await {
                tracing::debug!(backend = NAME, error = %e, "trimming the outbox failed");
            }
        }
    }
}

/// Catches up lagging tiers every `every` until the store is dropped.
async fn replay_loop(inner: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        inner.catch_up().await;
        if let Ok(l) = inner.lag().await {
            lag::publish(&l);
        }
    }
}

#[async_trait]
impl MemoryStore for CompositeStore {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.caps.clone()
    }

    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        let s = self.inner.record_store.clone();
        self.inner.write(s.add(batch, opts)).await
    }

    async fn get(&self, tenant: &str, id: MemoryId) -> Result<Memory> {
        Ok(self.get_served(tenant, id).await?.value)
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        Ok(self.get_many_served(tenant, ids).await?.value)
    }

    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
        let s = self.inner.record_store.clone();
        self.inner.write(s.update(tenant, id, update)).await
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        let s = self.inner.record_store.clone();
        self.inner.write(s.delete(tenant, id)).await
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        let s = self.inner.record_store.clone();
        self.inner.write(s.forget(scope)).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        Ok(self.list_served(query).await?.value)
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        Ok(self.search_served(query).await?.value)
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        Ok(self.count_served(scope, filter).await?.value)
    }

    async fn health(&self) -> Result<()> {
        let r = self
            .inner
            .record
            .timed(self.inner.record_store.health())
            .await;
        self.inner.note_record(&r);
        r
    }

    async fn purge_expired(&self) -> Result<u64> {
        let n = self
            .inner
            .record
            .timed(self.inner.record_store.purge_expired())
            .await?;
        for t in &self.inner.replicas {
            if let Err(e) = t.call(|s| async move { s.purge_expired().await }).await {
                tracing::debug!(backend = NAME, tier = %t.name, error = %e, "purge failed on a tier");
            }
        }
        Ok(n)
    }

    async fn tenants(&self) -> Result<Vec<String>> {
        self.inner
            .record
            .timed(self.inner.record_store.tenants())
            .await
    }
}
