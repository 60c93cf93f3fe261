//! The embedded store, memlane's default: one local directory, no server.
//!
//! It keeps memories in SQLite (`memlane.db` in the directory, WAL mode), and beside it in RAM their vectors and a
//! text index for keyword and hybrid search (BM25 over the query's scope, Snowball stemming, session context and
//! time expressions: see `text`), both kept in step by the writer after each commit and rebuilt from the database at
//! open. Why SQLite: the most deployed, most tested embedded database there is, ACID with a write-ahead log (an
//! acknowledged write survives `kill -9`, and power loss with `sync=full`), many concurrent readers beside one
//! writer, and JSON functions that run metadata filters in the engine.
//!
//! Concurrency: writes go through one connection, one transaction each (a batch is all or nothing); reads use a
//! pool of connections and never wait for writes. Expired memories are never returned, and a background task
//! deletes them every `purge_interval`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> memlane::Result<()> {
//! use memlane::embedded::{EmbeddedConfig, EmbeddedStore};
//! use memlane::{MemoryStore, MemoryStoreExt, NewMemory, Scope};
//! let dir = tempfile::tempdir().unwrap();
//! let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path())).await?;
//! let m = store.add_one(NewMemory::new(Scope::tenant("acme"), "The build server is ci-3")).await?;
//! assert_eq!(store.get("acme", m.id).await?.version, 1);
//! # Ok(()) }
//! ```

mod checkpoint;
mod config;
mod dedup;
mod error;
mod read;
mod reindex;
mod rows;
mod schema;
mod search;
mod sql;
mod text;
mod vectors;
mod write;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use memlane_core::{
    AddOptions, Added, Capabilities, Error, Filter, ListQuery, Memory, MemoryId, MemoryStore,
    NewMemory, Page, Result, Scope, Scored, SearchMode, SearchQuery, Timestamp, Update,
};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

pub use config::{EmbeddedConfig, SyncMode};
use error::{map, NAME};
pub use reindex::{ReindexOptions, ReindexProgress, ReindexReport};

/// The embedded store. Cheap to share behind an `Arc`; dropping the last handle stops its purge task.
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    purger: Option<tokio::task::JoinHandle<()>>,
    checkpointer: Option<tokio::task::JoinHandle<()>>,
}

struct Inner {
    config: EmbeddedConfig,
    vectors: vectors::Vectors,
    text: text::TextIndex,
    hashes: dedup::Hashes,
    writer: Mutex<Connection>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Signalled after each write, for [`checkpoint::run`].
    wal: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.inner.config.path)
            .finish()
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        for task in [self.purger.take(), self.checkpointer.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
    }
}

/// The database file inside the store's directory.
pub const DB_FILE: &str = "memlane.db";

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `config.path`, brings its schema up to date and starts the purge
    /// task (which needs a Tokio runtime).
    pub async fn open(config: EmbeddedConfig) -> Result<Self> {
        let inner = tokio::task::spawn_blocking(move || Inner::open(config))
            .await
            .map_err(error::join)??;
        let inner = Arc::new(inner);
        let purger = Some(tokio::spawn(purge_loop(
            Arc::downgrade(&inner),
            inner.config.purge_interval,
        )));
        let checkpointer = Some(tokio::spawn(checkpoint::run(
            Arc::downgrade(&inner),
            inner.wal.clone(),
        )));
        Ok(EmbeddedStore {
            inner,
            purger,
            checkpointer,
        })
    }

    /// Opens the store a parsed `embedded://` URL names (the factory's entry).
    pub async fn open_with(opts: &mut crate::OpenOptions) -> Result<Arc<dyn MemoryStore>> {
        let config = EmbeddedConfig::from_options(opts)?;
        Ok(Arc::new(EmbeddedStore::open(config).await?))
    }

    /// Its settings.
    pub fn config(&self) -> &EmbeddedConfig {
        &self.inner.config
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner.readers.get().map_err(error::pool)?;
            f(&conn)
        })
        .await
        .map_err(error::join)?
    }

    /// Runs a short read (a few rows found by key) on the calling thread when a reader connection is idle, which
    /// saves the two thread hand-offs of [`Self::read`] (most of a `get`'s time); otherwise as [`Self::read`]. On
    /// a multi-threaded runtime the worker's other tasks move to another thread meanwhile (`block_in_place`).
    async fn read_short<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let Some(conn) = self.inner.readers.try_get() else {
            return self.read(f).await;
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| f(&conn))
            }
            _ => f(&conn),
        }
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.write(f))
            .await
            .map_err(error::join)?
    }
}

impl Inner {
    fn open(config: EmbeddedConfig) -> Result<Inner> {
        std::fs::create_dir_all(&config.path).map_err(|e| {
            Error::unavailable(
                NAME,
                format!("cannot create {}: {e}", config.path.display()),
                Some(Box::new(e)),
            )
        })?;
        let file = config.path.join(DB_FILE);
        let mut writer = Connection::open(&file).map_err(map)?;
        schema::configure(&writer, config.sync).map_err(map)?;
        schema::migrate(&mut writer).map_err(map)?;
        let version: i64 = writer
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(map)?;
        if version > schema::latest_version() {
            return Err(Error::invalid(
                "store",
                format!("{} has schema version {version}, newer than this memlane knows: upgrade memlane", file.display()),
            ));
        }
        if let Some(model) = &config.embedding_model {
            schema::pin_model(&mut writer, model)?;
        }
        writer
            .pragma_update(None, "wal_autocheckpoint", checkpoint::FALLBACK_PAGES)
            .map_err(map)?;
        let vectors = vectors::Vectors::load(&writer)?;
        let text = text::TextIndex::load(&writer)?;
        let hashes = dedup::Hashes::load(&writer)?;
        let sync = config.sync;
        let manager =
            SqliteConnectionManager::file(&file).with_init(move |c| schema::configure(c, sync));
        let readers = r2d2::Pool::builder()
            .max_size(config.readers)
            .min_idle(Some(1))
            .test_on_check_out(false)
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(error::pool)?;
        Ok(Inner {
            config,
            vectors,
            text,
            hashes,
            writer: Mutex::new(writer),
            readers,
            wal: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// What the writer keeps in step after each commit.
    fn ram(&self) -> write::Ram<'_> {
        write::Ram {
            vectors: &self.vectors,
            text: &self.text,
            hashes: &self.hashes,
        }
    }

    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        // A panic while holding the lock leaves no open transaction (rusqlite rolls back on drop).
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let res = f(&mut conn);
        self.wal.notify_one();
        res
    }
}

/// Deletes expired memories every `every`, in batches, until the store is dropped.
async fn purge_loop(inner: std::sync::Weak<Inner>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let res = tokio::task::spawn_blocking(move || {
            let mut total = 0;
            loop {
                let n = inner.write(|c| write::purge(c, &inner.ram(), Timestamp::now(), 1000))?;
                total += n;
                if n < 1000 {
                    return Ok::<_, Error>(total);
                }
            }
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

#[async_trait]
impl MemoryStore for EmbeddedStore {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::none();
        c.keyword_search = true;
        c.semantic_search = true;
        c.hybrid_search = true;
        c.ttl = true;
        c.transactions = true;
        c.durable = true;
        c.limits = self.inner.config.limits;
        c
    }

    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        let now = Timestamp::now();
        self.inner.config.limits.check_batch(&batch, now)?;
        if let Some(model) = &self.inner.config.embedding_model {
            for (i, m) in batch.iter().enumerate() {
                if let Some(e) = m.embedding.as_ref().filter(|e| &e.model != model) {
                    return Err(schema::other_model(
                        &format!("memories[{i}].embedding"),
                        &e.model,
                        model,
                    ));
                }
            }
        }
        let dedup = opts.dedup.unwrap_or(self.inner.config.dedup);
        let inner = self.inner.clone();
        let terms = text::Pending::start(&batch);
        self.write(move |c| write::add(c, &inner.ram(), batch, dedup, now, terms))
            .await
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        if ids.len() > self.inner.config.limits.max_limit {
            return Err(Error::invalid(
                "ids",
                format!("at most {} ids at once", self.inner.config.limits.max_limit),
            ));
        }
        let (tenant, ids) = (tenant.to_owned(), ids.to_vec());
        self.read_short(move |c| read::get_many(c, &tenant, &ids, Timestamp::now()))
            .await
    }

    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
        self.inner.config.limits.check_update(&update)?;
        let tenant = tenant.to_owned();
        let inner = self.inner.clone();
        self.write(move |c| write::update(c, &inner.ram(), &tenant, id, &update, Timestamp::now()))
            .await
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        let tenant = tenant.to_owned();
        let inner = self.inner.clone();
        self.write(move |c| write::delete(c, &inner.ram(), &tenant, id, Timestamp::now()))
            .await
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        scope.validate()?;
        let scope = scope.clone();
        let inner = self.inner.clone();
        self.write(move |c| write::forget(c, &inner.ram(), &scope))
            .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        query.scope.validate()?;
        self.inner.config.limits.check_limit(query.limit)?;
        let q = query.clone();
        let page = self
            .read(move |c| read::list(c, &q, Timestamp::now()))
            .await?;
        Ok(page.shaped_for(query))
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        query.validate(&self.inner.config.limits)?;
        if let (Some(model), Some(e)) = (&self.inner.config.embedding_model, &query.embedding) {
            if &e.model != model {
                return Err(schema::other_model("embedding", &e.model, model));
            }
        }
        let query = query.clone();
        let inner = self.inner.clone();
        self.read(move |c| {
            let now = Timestamp::now();
            match query.mode {
                SearchMode::Keyword => read::keyword(c, &inner.text, &query, now),
                SearchMode::Semantic => {
                    search::semantic(c, &inner.vectors, &inner.text, &query, now)
                }
                SearchMode::Hybrid => search::hybrid(c, &inner.vectors, &inner.text, &query, now),
            }
        })
        .await
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        scope.validate()?;
        let (scope, filter) = (scope.clone(), filter.cloned());
        self.read(move |c| read::count(c, &scope, filter.as_ref(), Timestamp::now()))
            .await
    }

    async fn health(&self) -> Result<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map))
            .await
    }

    async fn purge_expired(&self) -> Result<u64> {
        let inner = self.inner.clone();
        self.write(move |c| write::purge(c, &inner.ram(), Timestamp::now(), u32::MAX))
            .await
    }

    async fn tenants(&self) -> Result<Vec<String>> {
        self.read(|c| read::tenants(c, Timestamp::now())).await
    }
}
