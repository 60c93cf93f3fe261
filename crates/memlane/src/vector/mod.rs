//! The vector store (`vector://PATH`): memlane's own vector index ([`memlane_vector`]: HNSW over cosine
//! similarity, filtered search planner) with each memory's payload stored beside it, in one directory.
//!
//! - **Payload**: every memory's fields and its vector as given, in a SQLite database (`payload.db`, WAL mode,
//!   fsync per commit by default). It is the record of truth: a write is acknowledged once its transaction
//!   commits, so it survives `kill -9` (and, with `sync=full`, power loss).
//! - **Vectors**: one [`memlane_vector::Index`] per embedding model and dimension (`index-<no>/`), updated after
//!   each commit. A vector gets a fresh id each time it is set, so at open the index is made to hold exactly the
//!   payload's vectors (inserting what a crash kept from it, removing what a crash left in it) without rebuilding
//!   its graph; it loads its snapshot and replays its log's tail.
//! - **RAM**: every memory's fields (without vectors) per tenant, indexed by id, newest first, content hash and
//!   vector id: `list`, `count`, `forget` and the search's scope and filter test evaluate the reference
//!   [`memlane_core::Filter::matches`] there.
//!
//! It offers semantic search (cosine similarity, clamped to [0, 1], `min_score`; see `search.rs` for the plan),
//! TTL (expired memories are never returned; a background task and [`MemoryStore::purge_expired`] delete them from
//! the payload and the index), all-or-nothing batches and durability. Keyword and hybrid search are not offered
//! (compose it with a keyword store). Open it with `memlane::open("vector://PATH?options")` or
//! [`VectorStore::open`]; the options are in [`VectorConfig`] and `docs/backends/vector.md`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> memlane::Result<()> {
//! use memlane::{Embedding, MemoryStoreExt, NewMemory, Scope, SearchMode, SearchQuery};
//! let dir = tempfile::tempdir().unwrap();
//! let store = memlane::open(&format!("vector://{}?embedder=none", dir.path().display())).await?;
//! let alice = Scope::tenant("acme").with_user("alice");
//! let emb = |v: &[f32]| Embedding { model: "my-model".into(), vector: v.to_vec() };
//! store.add_one(NewMemory::new(alice.clone(), "likes tea").embedding(emb(&[1.0, 0.0]))).await?;
//! store.add_one(NewMemory::new(alice.clone(), "likes chess").embedding(emb(&[0.0, 1.0]))).await?;
//! let mut q = SearchQuery::new(alice, "tea").mode(SearchMode::Semantic);
//! q.embedding = Some(emb(&[0.9, 0.1]));
//! let hits = store.search(&q).await?;
//! assert_eq!(hits[0].memory.content, "likes tea");
//! # Ok(()) }
//! ```

mod config;
mod error;
mod indexes;
mod payload;
mod search;
mod state;
mod write;

use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use memlane_core::{
    AddOptions, Added, Capabilities, Error, Filter, ListQuery, Memory, MemoryId, MemoryStore,
    NewMemory, Page, Result, Scope, Scored, SearchMode, SearchQuery, Timestamp, Update,
};
use r2d2_sqlite::SqliteConnectionManager;

pub use config::{SyncMode, VectorConfig};
pub use payload::DB_FILE;

use error::{poisoned, NAME};
use indexes::Indexes;
use state::State;
use write::Writer;

/// The vector store. See the [module docs](self).
pub struct VectorStore {
    inner: Arc<Inner>,
    purger: Option<tokio::task::JoinHandle<()>>,
}

/// What the store's tasks share.
pub(crate) struct Inner {
    config: VectorConfig,
    state: RwLock<State>,
    indexes: Indexes,
    writer: Mutex<Writer>,
    readers: r2d2::Pool<SqliteConnectionManager>,
}

impl std::fmt::Debug for VectorStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorStore")
            .field("path", &self.inner.config.path)
            .finish()
    }
}

impl Drop for VectorStore {
    fn drop(&mut self) {
        if let Some(p) = self.purger.take() {
            p.abort();
        }
    }
}

impl Drop for Inner {
    /// A clean close snapshots the indexes, so that the next open loads their graphs instead of replaying logs.
    fn drop(&mut self) {
        if let Err(e) = self.indexes.snapshot() {
            tracing::warn!(backend = NAME, error = %e, "snapshotting the vector indexes at close failed");
        }
    }
}

impl VectorStore {
    /// Opens (creating if needed) the store in `config.path`: loads the payload, opens and repairs the indexes,
    /// and starts the purge task (which needs a Tokio runtime).
    pub async fn open(config: VectorConfig) -> Result<Self> {
        let inner = tokio::task::spawn_blocking(move || Inner::open(config))
            .await
            .map_err(error::join)??;
        let inner = Arc::new(inner);
        let purger = Some(tokio::spawn(purge_loop(
            Arc::downgrade(&inner),
            inner.config.purge_interval,
        )));
        Ok(VectorStore { inner, purger })
    }

    /// Opens the store a parsed `vector://` URL names (the factory's entry).
    pub async fn open_with(opts: &mut crate::OpenOptions) -> Result<Arc<dyn MemoryStore>> {
        let config = VectorConfig::from_options(opts)?;
        Ok(Arc::new(VectorStore::open(config).await?))
    }

    /// Its settings.
    pub fn config(&self) -> &VectorConfig {
        &self.inner.config
    }

    /// Writes a snapshot of every vector index now (done at close too), so that reopening loads the graphs
    /// instead of replaying their logs.
    pub async fn snapshot(&self) -> Result<()> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _w = inner.writer.lock().map_err(|_| poisoned())?;
            inner.indexes.snapshot()
        })
        .await
        .map_err(error::join)?
    }

    /// How many vectors the indexes hold, over every model: one per memory with a (non-zero) embedding, expired
    /// ones included until purged.
    pub fn indexed_vectors(&self) -> Result<usize> {
        Ok(self
            .inner
            .indexes
            .all()?
            .iter()
            .map(|s| s.index.len())
            .sum())
    }

    /// Runs `f` on a blocking thread with the shared state.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(error::join)?
    }

    /// Runs `f` on a blocking thread as the (only) writer.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner, &mut Writer) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.blocking(move |inner| {
            let mut w = inner.writer.lock().map_err(|_| poisoned())?;
            f(inner, &mut w)
        })
        .await
    }
}

impl Inner {
    fn open(config: VectorConfig) -> Result<Inner> {
        std::fs::create_dir_all(&config.path).map_err(|e| {
            Error::unavailable(
                NAME,
                format!("cannot create {}: {e}", config.path.display()),
                Some(Box::new(e)),
            )
        })?;
        let mut conn = payload::open_writer(&config.path, config.sync)?;
        if let Some(model) = &config.embedding_model {
            payload::pin_model(&mut conn, model)?;
        }
        let entries = payload::load_all(&conn)?;
        let (indexes, max_index_id) =
            Indexes::open(&config.path, config.index.clone(), &conn, &entries)?;
        let last_vec = max_index_id.max(payload::max_vec_id(&conn)?);
        let state = write::load_state(entries);
        let sync = config.sync;
        let manager = SqliteConnectionManager::file(config.path.join(DB_FILE))
            .with_init(move |c| payload::configure(c, sync));
        let readers = r2d2::Pool::builder()
            .max_size(config.readers)
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(error::pool)?;
        Ok(Inner {
            config,
            state: RwLock::new(state),
            indexes,
            writer: Mutex::new(Writer { conn, last_vec }),
            readers,
        })
    }

    /// Memories read from RAM, with their vectors read back from the payload.
    fn fill(&self, memories: Vec<Memory>) -> Result<Vec<Memory>> {
        if memories.iter().all(|m| m.embedding.is_none()) {
            return Ok(memories);
        }
        let conn = self.readers.get().map_err(error::pool)?;
        payload::fill(&conn, memories)
    }

    /// The refusal of a vector of another model than the pinned one.
    fn check_model(&self, field: &str, e: Option<&memlane_core::Embedding>) -> Result<()> {
        match (&self.config.embedding_model, e) {
            (Some(model), Some(e)) if &e.model != model => {
                Err(error::other_model(field, &e.model, model))
            }
            _ => Ok(()),
        }
    }

    /// Live memories in `scope` passing `filter`, newest first, after `cursor`: at most `limit`.
    fn matching(
        &self,
        scope: &Scope,
        filter: Option<&Filter>,
        cursor: Option<memlane_core::Cursor>,
        limit: usize,
    ) -> Result<Vec<Memory>> {
        let now = Timestamp::now();
        let state = self.state.read().map_err(|_| poisoned())?;
        Ok(state
            .tenants
            .get(&scope.tenant)
            .into_iter()
            .flat_map(|t| t.newest_first(cursor, now))
            .filter(|e| {
                scope.matches(&e.memory.scope) && filter.is_none_or(|f| f.matches(&e.memory))
            })
            .take(limit)
            .map(|e| e.memory.clone())
            .collect())
    }
}

/// Deletes expired memories every `every`, until the store is dropped.
async fn purge_loop(inner: std::sync::Weak<Inner>, every: std::time::Duration) {
    // The first purge one period after open (not at once: it would hold the store past a quick close).
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let res = tokio::task::spawn_blocking(move || {
            let mut w = inner.writer.lock().map_err(|_| poisoned())?;
            write::purge(&inner, &mut w, Timestamp::now())
        })
        .await;
        match res {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::debug!(backend = NAME, purged = n, "purged expired memories"),
            Ok(Err(e)) => {
                tracing::warn!(backend = NAME, error = %e, "purging expired memories failed")
            }
            Err(e) => tracing::warn!(backend = NAME, error = %e, "purge task failed"),
        }
    }
}

fn check_tenant(tenant: &str) -> Result<()> {
    Scope::tenant(tenant).validate()
}

#[async_trait]
impl MemoryStore for VectorStore {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::none();
        c.semantic_search = true;
        c.ttl = true;
        c.transactions = true;
        c.durable = true;
        c.limits = self.inner.config.limits;
        c
    }

    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        let now = Timestamp::now();
        self.inner.config.limits.check_batch(&batch, now)?;
        for (i, m) in batch.iter().enumerate() {
            self.inner
                .check_model(&format!("memories[{i}].embedding"), m.embedding.as_ref())?;
        }
        let dedup = opts.dedup.unwrap_or(self.inner.config.dedup);
        self.write(move |inner, w| write::add(inner, w, batch, dedup, now))
            .await
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        check_tenant(tenant)?;
        self.inner.config.limits.check_limit(ids.len().max(1))?;
        let tenant = tenant.to_owned();
        let ids = ids.to_vec();
        self.blocking(move |inner| {
            let now = Timestamp::now();
            let found: Vec<Memory> = {
                let state = inner.state.read().map_err(|_| poisoned())?;
                let Some(t) = state.tenants.get(&tenant) else {
                    return Ok(Vec::new());
                };
                ids.iter()
                    .filter_map(|id| t.live(*id, now).map(|e| e.memory.clone()))
                    .collect()
            };
            inner.fill(found)
        })
        .await
    }

    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
        check_tenant(tenant)?;
        self.inner.config.limits.check_update(&update)?;
        self.inner
            .check_model("embedding", update.embedding.as_ref())?;
        let tenant = tenant.to_owned();
        self.write(move |inner, w| write::update(inner, w, &tenant, id, update, Timestamp::now()))
            .await
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        check_tenant(tenant)?;
        let tenant = tenant.to_owned();
        self.write(move |inner, w| write::delete(inner, w, &tenant, id, Timestamp::now()))
            .await
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        scope.validate()?;
        let scope = scope.clone();
        self.write(move |inner, w| write::forget(inner, w, &scope, Timestamp::now()))
            .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        query.scope.validate()?;
        self.inner.config.limits.check_limit(query.limit)?;
        let q = query.clone();
        self.blocking(move |inner| {
            let found = inner.matching(&q.scope, q.filter.as_ref(), q.cursor, q.limit + 1)?;
            Ok(Page::from_overfetch(inner.fill(found)?, q.limit).shaped_for(&q))
        })
        .await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        if query.mode != SearchMode::Semantic {
            return Err(Error::unsupported(NAME, Capabilities::for_mode(query.mode)));
        }
        query.validate(&self.inner.config.limits)?;
        self.inner
            .check_model("embedding", query.embedding.as_ref())?;
        let q = query.clone();
        self.blocking(move |inner| {
            let hits = search::run(inner, &q)?;
            let scores: std::collections::HashMap<MemoryId, f32> =
                hits.iter().map(|(m, s)| (m.id, *s)).collect();
            let memories = inner.fill(hits.into_iter().map(|(m, _)| m).collect())?;
            Ok(memories
                .into_iter()
                .map(|memory| Scored {
                    score: scores.get(&memory.id).copied().unwrap_or(0.0),
                    memory,
                })
                .collect())
        })
        .await
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        scope.validate()?;
        let scope = scope.clone();
        let filter = filter.cloned();
        self.blocking(move |inner| {
            let now = Timestamp::now();
            let state = inner.state.read().map_err(|_| poisoned())?;
            Ok(state
                .tenants
                .get(&scope.tenant)
                .into_iter()
                .flat_map(|t| t.newest_first(None, now))
                .filter(|e| {
                    scope.matches(&e.memory.scope)
                        && filter.as_ref().is_none_or(|f| f.matches(&e.memory))
                })
                .count() as u64)
        })
        .await
    }

    async fn health(&self) -> Result<()> {
        self.blocking(|inner| {
            let conn = inner.readers.get().map_err(error::pool)?;
            conn.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(error::db)
        })
        .await
    }

    async fn purge_expired(&self) -> Result<u64> {
        self.write(|inner, w| write::purge(inner, w, Timestamp::now()))
            .await
    }

    async fn tenants(&self) -> Result<Vec<String>> {
        self.blocking(|inner| {
            let now = Timestamp::now();
            let state = inner.state.read().map_err(|_| poisoned())?;
            let mut out: Vec<String> = state
                .tenants
                .iter()
                .filter(|(_, t)| t.newest_first(None, now).next().is_some())
                .map(|(name, _)| name.clone())
                .collect();
            out.sort();
            Ok(out)
        })
        .await
    }
}
