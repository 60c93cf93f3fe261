//! The Redis store: memories in Redis (standalone or Redis Cluster), the cache tier of memlane.
//!
//! Open it with `memlane::open("redis://127.0.0.1:6379")` (`rediss://` for TLS; `?cluster=true` and any number
//! of comma-separated seed nodes for Redis Cluster), or [`RedisStore::open`]. The URL, its options, the key
//! layout and the behaviour are documented in `docs/backends/redis.md`; in short:
//!
//! - one hash per memory, and sorted sets per tenant, user, agent and session that list memories newest first; all
//!   keys of a tenant share one hash tag (one cluster slot), so each write is one atomic Lua script over the memory
//!   and all its indexes, batches included;
//! - metadata filters are evaluated in process by [`memlane_core::Filter::matches`] over the scope's index, so the
//!   results are exactly the reference semantics;
//! - TTL is Redis expiry (`PEXPIREAT`) on the memory's hash; reads skip what expired, and purges remove the
//!   expired memories' index entries;
//! - every operation is bounded by `timeout_ms`, and a server that is down or does not answer makes it fail as
//!   `unavailable` (temporary); the connection reconnects by itself.
//!
//! Keyword, semantic and hybrid search are not offered (`unsupported`).
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> memlane::Result<()> {
//! use memlane::{MemoryStore, MemoryStoreExt, NewMemory, Scope};
//! let store = memlane::open("redis://127.0.0.1:6379?prefix=myapp").await?;
//! let m = store.add_one(NewMemory::new(Scope::tenant("acme"), "The build server is ci-3")).await?;
//! assert_eq!(store.get("acme", m.id).await?.version, 1);
//! # Ok(()) }
//! ```

mod config;
mod conn;
mod error;
mod keys;
mod purge;
mod read;
mod record;
mod scripts;
mod write;

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use memlane_core::{
    AddOptions, Added, Capabilities, Error, Filter, ListQuery, Memory, MemoryId, MemoryStore,
    NewMemory, Page, Result, Scope, Scored, SearchQuery, Timestamp, Update,
};

pub use config::RedisConfig;
use conn::Conn;
use error::{map, timed_out, NAME};
use keys::TenantKeys;
use scripts::Scripts;

/// The Redis store. Cheap to share behind an `Arc`; dropping the last handle stops its purge task.
pub struct RedisStore {
    inner: Arc<Inner>,
    purger: Option<tokio::task::JoinHandle<()>>,
}

/// What the store's operations share.
struct Inner {
    config: RedisConfig,
    conn: Conn,
    scripts: Scripts,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        if let Some(p) = self.purger.take() {
            p.abort();
        }
    }
}

impl RedisStore {
    /// Connects (within `config.timeout`) and starts the purge task (which needs a Tokio runtime).
    pub async fn open(config: RedisConfig) -> Result<Self> {
        config.validate()?;
        let conn = tokio::time::timeout(config.timeout, Conn::connect(&config))
            .await
            .map_err(|_| timed_out(config.timeout))??;
        let every = config.purge_interval;
        let inner = Arc::new(Inner {
            config,
            conn,
            scripts: Scripts::new(),
        });
        let purger =
            every.map(|every| tokio::spawn(purge::purge_loop(Arc::downgrade(&inner), every)));
        Ok(RedisStore { inner, purger })
    }

    /// Opens the store a parsed `redis://` or `rediss://` URL names (the factory's entry).
    pub async fn open_with(opts: &mut crate::OpenOptions) -> Result<Arc<dyn MemoryStore>> {
        let config = RedisConfig::from_options(opts)?;
        Ok(Arc::new(RedisStore::open(config).await?))
    }

    /// Its settings.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// The key of the hash that holds memory `id` of `tenant` (see `docs/backends/redis.md`), for operators and
    /// benchmarks.
    pub fn memory_key(&self, tenant: &str, id: MemoryId) -> String {
        TenantKeys::new(&self.inner.config.prefix, tenant).memory(id)
    }

    /// Runs one operation within the configured timeout.
    async fn timed<T>(&self, op: impl Future<Output = Result<T>>) -> Result<T> {
        let t = self.inner.config.timeout;
        tokio::time::timeout(t, op)
            .await
            .map_err(|_| timed_out(t))?
    }
}

#[async_trait]
impl MemoryStore for RedisStore {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::none();
        c.ttl = true;
        c.transactions = true;
        c.limits = self.inner.config.limits;
        c
    }

    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        let now = Timestamp::now();
        self.inner.config.limits.check_batch(&batch, now)?;
        let dedup = opts.dedup.unwrap_or(self.inner.config.dedup);
        self.timed(self.inner.add(batch, dedup, now)).await
    }

    async fn get(&self, tenant: &str, id: MemoryId) -> Result<Memory> {
        self.timed(self.inner.get_one(tenant, id))
            .await?
            .ok_or_else(|| Error::not_found(NAME, format!("memory {id}")))
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        let max = self.inner.config.limits.max_limit;
        if ids.len() > max {
            return Err(Error::invalid("ids", format!("at most {max} ids at once")));
        }
        self.timed(self.inner.get_many(tenant, ids)).await
    }

    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
        self.inner.config.limits.check_update(&update)?;
        self.timed(self.inner.update(tenant, id, &update)).await
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        self.timed(self.inner.delete(tenant, id)).await
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        scope.validate()?;
        self.timed(self.inner.forget(scope)).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        query.scope.validate()?;
        self.inner.config.limits.check_limit(query.limit)?;
        Ok(self.timed(self.inner.list(query)).await?.shaped_for(query))
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        query.validate(&self.inner.config.limits)?;
        Err(Error::unsupported(NAME, Capabilities::for_mode(query.mode)))
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        scope.validate()?;
        self.timed(self.inner.count(scope, filter)).await
    }

    async fn health(&self) -> Result<()> {
        self.timed(async {
            let mut conn = self.inner.conn.clone();
            redis::cmd("PING")
                .query_async::<()>(&mut conn)
                .await
                .map_err(map)
        })
        .await
    }

    /// Purges the index entries of expired memories in every tenant that has expiring memories, for at most the
    /// timeout (what is left goes at the next call); returns how many memories were purged.
    async fn purge_expired(&self) -> Result<u64> {
        let t = self.inner.config.timeout;
        self.timed(self.inner.purge_expired(t / 2)).await
    }
}
