//! The PostgreSQL store: the durable record of truth, with full-text search, JSONB filters and, where the server
//! has pgvector, semantic search.
//!
//! - Memories are rows of `memlane_memories`, keyed by `(tenant, id)`, with indexes for newest-first listing per
//!   tenant, user, agent and session, for deduplication and for expiry. The schema is versioned and applied at
//!   start-up ([`schema`](self) docs: migrations under an advisory lock, safe when many servers start at once).
//! - Keyword search: a generated `tsvector` column with a GIN index; the query's words are OR-ed
//!   (`plainto_tsquery` per word, so any word may match and more matching words rank higher), ranked by
//!   `ts_rank(.., 32)` = `rank / (rank + 1)` in [0, 1). The text search configuration is a setting.
//! - Filters compile to SQL over the columns and the `metadata` JSONB with bound parameters only, keeping the
//!   reference semantics exactly (see `sql.rs`).
//! - Semantic search through pgvector (HNSW, cosine), per embedding model and dimension; without the extension the
//!   store works the same and says semantic search is unsupported.
//! - Writes are transactions: a batch is all or nothing; updates check `version` atomically; concurrent identical
//!   adds never duplicate nor fail with raw unique violations.
//! - Expired memories are never returned; a background task deletes them in batches.
//! - Connections come from a pool (`pool_size`); a server that is down or restarting makes operations fail with
//!   [`memlane_core::ErrorKind::Unavailable`] quickly, and they succeed again once it is back, without reopening.
//!
//! ```no_run
//! # async fn demo() -> memlane::Result<()> {
//! let store = memlane::open("postgres://memlane@localhost/memlane?pool_size=32").await?;
//! # Ok(()) }
//! ```

mod bulk;
mod config;
mod error;
mod key_index;
mod outbox;
mod read;
mod rows;
mod schema;
mod sql;
mod vector;
mod write;

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use memlane_core::{
    AddOptions, Added, Capabilities, Error, Filter, ListQuery, Memory, MemoryId, MemoryStore,
    NewMemory, Page, Result, Scope, Scored, SearchMode, SearchQuery, Timestamp, Update,
};
use tokio_postgres::NoTls;

pub use config::{PgVector, PostgresConfig};
use error::{map, NAME};
use vector::Vectors;

/// The PostgreSQL store. Cheap to share behind an `Arc`; dropping it stops its purge task.
pub struct PostgresStore {
    inner: Arc<Inner>,
    sweeper: Option<tokio::task::JoinHandle<()>>,
}

struct Inner {
    config: PostgresConfig,
    pool: Pool,
    /// The canonical name of the text search configuration.
    ts_config: String,
    /// Its OID.
    ts_config_oid: u32,
    /// pgvector, when used.
    vectors: Option<Vectors>,
    /// The outbox, when on (`outbox=true`).
    outbox: Option<outbox::Outbox>,
    /// The metadata keys with an index, and those to index next.
    keys: key_index::KeyIndexes,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.inner.config.connect;
        f.debug_struct("PostgresStore")
            .field("hosts", &c.get_hosts())
            .field("dbname", &c.get_dbname())
            .field("user", &c.get_user())
            .field("pgvector", &self.inner.vectors.as_ref().map(|v| &v.version))
            .finish()
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(s) = self.sweeper.take() {
            s.abort();
        }
    }
}

impl PostgresStore {
    /// Connects, brings the schema up to date, detects pgvector and starts the purge task (which needs a Tokio
    /// runtime). Fails with [`memlane_core::ErrorKind::Unavailable`] when the server cannot be reached.
    pub async fn open(config: PostgresConfig) -> Result<Self> {
        let mut pg = config.connect.clone();
        pg.connect_timeout(config.connect_timeout);
        if pg.get_application_name().is_none() {
            pg.application_name("memlane");
        }
        if let Some(t) = config.statement_timeout {
            let opt = format!("-c statement_timeout={}", t.as_millis().max(1));
            let options = match pg.get_options() {
                Some(o) if !o.is_empty() => format!("{o} {opt}"),
                _ => opt,
            };
            pg.options(options);
        }
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .wait_timeout(Some(config.pool_timeout))
            .create_timeout(Some(config.connect_timeout))
            .recycle_timeout(Some(config.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| {
                Error::internal(NAME, format!("cannot make the connection pool: {e}"), None)
            })?;
        let mut client = pool.get().await.map_err(map)?;
        let (ts_config, ts_config_oid) =
            schema::check_text_search_config(&client, &config.text_search_config).await?;
        let vector = schema::detect_vector(&mut client, config.pgvector).await?;
        schema::migrate(&mut client, vector.is_some()).await?;
        schema::ensure_metadata_indexes(&mut client, &config.index_metadata).await?;
        // With auto-indexing off, exactly the declared keys are used.
        let found = if config.auto_index_metadata > 0 {
            key_index::found(&client).await?
        } else {
            Vec::new()
        };
        let keys = key_index::KeyIndexes::new(
            &config.index_metadata,
            found,
            config.auto_index_after,
            config.auto_index_metadata,
        );
        drop(client);
        let vectors = vector.map(|v| Vectors::new(v, config.max_vector_indexes));
        let outbox = config.outbox.then(|| outbox::Outbox::new(pool.clone()));
        let inner = Arc::new(Inner {
            config,
            outbox,
            pool,
            ts_config,
            ts_config_oid,
            vectors,
            keys,
        });
        let sweeper = inner
            .config
            .purge_interval
            .map(|every| tokio::spawn(sweep(Arc::downgrade(&inner), every)));
        Ok(PostgresStore { inner, sweeper })
    }

    /// Opens the store a parsed `postgres://` URL names (the factory's entry).
    pub async fn open_with(opts: &mut crate::OpenOptions) -> Result<Arc<dyn MemoryStore>> {
        let config = PostgresConfig::from_options(opts)?;
        Ok(Arc::new(PostgresStore::open(config).await?))
    }

    /// Its settings.
    pub fn config(&self) -> &PostgresConfig {
        &self.inner.config
    }

    /// The version of pgvector in use, if any.
    pub fn pgvector_version(&self) -> Option<&str> {
        self.inner.vectors.as_ref().map(|v| v.version.as_str())
    }

    /// The metadata keys whose index filtered listings use now: the declared ones (`index_metadata`), those found
    /// in the database at open and those indexed on demand since (`auto_index_metadata`).
    pub fn indexed_metadata_keys(&self) -> Vec<String> {
        self.inner.keys.ready().as_ref().clone()
    }

    /// The connection pool (for tools and benchmarks that run their own SQL beside the store).
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.inner.pool.get().await.map_err(map)
    }
}

impl Inner {
    /// Deletes every expired memory, a batch at a time.
    async fn purge(&self) -> Result<u64> {
        let client = self.pool.get().await.map_err(map)?;
        let batch = self.config.purge_batch;
        let mut total = 0;
        loop {
            let n = write::purge_batch(&client, Timestamp::now(), batch).await?;
            total += n;
            if n < u64::try_from(batch).unwrap_or(u64::MAX) {
                return Ok(total);
            }
        }
    }
}

/// Builds the index of a metadata key that listings keep filtering on (see [`key_index`]).
async fn build_key_index(inner: Weak<Inner>, key: String) {
    let Some(inner) = inner.upgrade() else { return };
    let started = std::time::Instant::now();
    let built = match inner.pool.get().await.map_err(map) {
        Ok(client) => key_index::build(&client, &key).await,
        Err(e) => Err(e),
    };
    match built {
        Ok(valid) => {
            tracing::info!(backend = NAME, key = %key, valid, ms = started.elapsed().as_millis() as u64, "metadata key indexed on demand");
            inner.keys.built(&key, valid);
        }
        Err(e) if e.is_temporary() => {
            tracing::warn!(backend = NAME, key = %key, error = %e, "indexing a metadata key on demand failed: counted afresh");
            inner.keys.built(&key, false);
        }
        Err(e) => {
            tracing::warn!(backend = NAME, key = %key, error = %e, "indexing a metadata key on demand failed: no more such builds by this store");
            inner.keys.built(&key, false);
            inner.keys.give_up();
        }
    }
}

/// Deletes expired memories every `every` until the store is dropped.
async fn sweep(inner: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        match inner.purge().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(backend = NAME, purged = n, "purged expired memories"),
            Err(e) => tracing::warn!(backend = NAME, error = %e, "purging expired memories failed"),
        }
    }
}

#[async_trait]
impl MemoryStore for PostgresStore {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::none();
        c.keyword_search = true;
        c.semantic_search = self.inner.vectors.is_some();
        c.ttl = true;
        c.transactions = true;
        c.durable = true;
        c.limits = self.inner.config.limits;
        c
    }

    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        let now = Timestamp::now();
        self.inner.config.limits.check_batch(&batch, now)?;
        let dedup = opts.dedup.unwrap_or(self.inner.config.dedup);
        let mut client = self.client().await?;
        if let Some(v) = &self.inner.vectors {
            v.ensure(
                &mut client,
                batch.iter().filter_map(|m| m.embedding.as_ref()),
            )
            .await?;
        }
        let log = self.inner.outbox.is_some();
        let ts = &self.inner.ts_config;
        match bulk::add(&mut client, batch, dedup, now, ts, log).await? {
            bulk::Bulk::Done(added) => Ok(added),
            bulk::Bulk::Fallback(batch) => {
                write::add(&mut client, batch, dedup, now, ts, log).await
            }
        }
    }

    async fn get(&self, tenant: &str, id: MemoryId) -> Result<Memory> {
        let client = self.client().await?;
        read::get(
            &client,
            tenant,
            id,
            Timestamp::now(),
            self.inner.vectors.is_some(),
        )
        .await?
        .ok_or_else(|| Error::not_found(NAME, format!("memory {id}")))
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        let max = self.inner.config.limits.max_limit;
        if ids.len() > max {
            return Err(Error::invalid("ids", format!("at most {max} ids at once")));
        }
        let client = self.client().await?;
        read::get_many(
            &client,
            tenant,
            ids,
            Timestamp::now(),
            self.inner.vectors.is_some(),
        )
        .await
    }

    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
        self.inner.config.limits.check_update(&update)?;
        let mut client = self.client().await?;
        if let (Some(v), Some(e)) = (&self.inner.vectors, &update.embedding) {
            v.ensure(&mut client, [e]).await?;
        }
        write::update(
            &mut client,
            tenant,
            id,
            &update,
            Timestamp::now(),
            &self.inner.ts_config,
            self.inner.outbox.is_some(),
        )
        .await
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        let mut client = self.client().await?;
        let log = self.inner.outbox.is_some();
        write::delete(&mut client, tenant, id, Timestamp::now(), log).await
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        scope.validate()?;
        let mut client = self.client().await?;
        write::forget(&mut client, scope, self.inner.outbox.is_some()).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        query.scope.validate()?;
        self.inner.config.limits.check_limit(query.limit)?;
        let client = self.client().await?;
        let indexed = self.inner.keys.ready();
        if let (Some(f), Some(_)) = (&query.filter, &query.scope.user) {
            if let Some(key) = self.inner.keys.observe(f, &indexed) {
                tokio::spawn(build_key_index(Arc::downgrade(&self.inner), key));
            }
        }
        read::list(
            &client,
            query,
            Timestamp::now(),
            self.inner.vectors.is_some(),
            &indexed,
        )
        .await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        query.validate(&self.inner.config.limits)?;
        match (query.mode, &self.inner.vectors) {
            (SearchMode::Keyword, _) => {
                let client = self.client().await?;
                read::keyword(
                    &client,
                    query,
                    self.inner.ts_config_oid,
                    Timestamp::now(),
                    self.inner.vectors.is_some(),
                )
                .await
            }
            (SearchMode::Semantic, Some(v)) => {
                let mut client = self.client().await?;
                v.search(
                    &mut client,
                    query,
                    &self.inner.config.limits,
                    Timestamp::now(),
                )
                .await
            }
            (mode, _) => Err(Error::unsupported(NAME, Capabilities::for_mode(mode))),
        }
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        scope.validate()?;
        let client = self.client().await?;
        read::count(&client, scope, filter, Timestamp::now()).await
    }

    async fn health(&self) -> Result<()> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map_err(map)?;
        Ok(())
    }

    async fn purge_expired(&self) -> Result<u64> {
        self.inner.purge().await
    }

    async fn tenants(&self) -> Result<Vec<String>> {
        let client = self.client().await?;
        read::tenants(&client, Timestamp::now()).await
    }

    fn change_log(&self) -> Option<&dyn memlane_core::ChangeLog> {
        self.inner
            .outbox
            .as_ref()
            .map(|o| o as &dyn memlane_core::ChangeLog)
    }
}
