//! The PostgreSQL store's settings, from a `postgres://` URL.

use std::str::FromStr;
use std::time::Duration;

use memlane_core::{parse_ttl, Error, Limits, Result};

use crate::OpenOptions;

/// Whether to use pgvector for semantic search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PgVector {
    /// Use it when the database has it or can create it (`CREATE EXTENSION IF NOT EXISTS vector`); otherwise go on
    /// without semantic search (the default).
    #[default]
    Auto,
    /// Require it: opening fails when the extension cannot be had.
    Required,
    /// Never use it: semantic search is unsupported, embeddings are still stored.
    Off,
}

/// Settings of [`super::PostgresStore`]; URL options in brackets. Options memlane does not know are passed to the
/// driver as connection parameters (`sslmode`, `application_name`, `options`, `host` for a socket directory, ...).
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// Where to connect (the URL without memlane's options). Its `Debug` hides the password.
    pub connect: tokio_postgres::Config,
    /// Connections in the pool at most (`pool_size`, default 16).
    pub pool_size: usize,
    /// How long a caller waits for a free connection before [`memlane_core::ErrorKind::Unavailable`]
    /// (`pool_timeout`, default 10s).
    pub pool_timeout: Duration,
    /// How long connecting may take (`connect_timeout`, default 5s): a down server is reported quickly.
    pub connect_timeout: Duration,
    /// Longest statement, enforced by the server (`statement_timeout`, default 30s; `off` for none).
    pub statement_timeout: Option<Duration>,
    /// The text search configuration for keyword search (`text_search_config`, default `english`).
    pub text_search_config: String,
    /// Semantic search through pgvector (`pgvector=auto|true|false`, default auto).
    pub pgvector: PgVector,
    /// Most HNSW indexes made, one per embedding model and dimension (`max_vector_indexes`, default 16); vectors
    /// of further models are searched exactly, without an index.
    pub max_vector_indexes: u32,
    /// Deduplicate equal content in the same scope by default (`dedup`, default true).
    pub dedup: bool,
    /// Keep an outbox (change log) of every write, in the write's transaction, for a composite store to replay
    /// (`outbox`, default false). Writes then commit one after another (see `docs/backends/composite.md`).
    pub outbox: bool,
    /// How often expired memories are deleted (`purge_interval`, e.g. `30s`, default 60s; `off` for never).
    pub purge_interval: Option<Duration>,
    /// How many expired memories one purge statement deletes (`purge_batch`, default 1000).
    pub purge_batch: i64,
    /// Size limits (`max_content_bytes`, `max_metadata_bytes`, `max_batch`, `max_limit`, `max_dimension`).
    pub limits: Limits,
    /// Top-level metadata keys to index for filtered listings (`index_metadata=category,source`, default none; at
    /// most 8, each 1-48 ASCII letters, digits or `_`): each gets an index on
    /// `(tenant, user_id, metadata->>'KEY', created_ms DESC, id DESC)`, created at open if missing, so that a
    /// user's listing filtered by `metadata.KEY eq "string"` reads only its page, however few memories match.
    pub index_metadata: Vec<String>,
    /// How many more metadata keys may be indexed on demand (`auto_index_metadata`, default 4; 0 turns it off): a
    /// key that `auto_index_after` of a user's filtered listings required (`metadata.KEY eq "string"`) without an
    /// index gets the same index as a declared key, built in the background with `CREATE INDEX CONCURRENTLY`.
    pub auto_index_metadata: usize,
    /// Listings of a key without an index before it is indexed on demand (`auto_index_after`, default 100).
    pub auto_index_after: u32,
}

/// How many metadata keys [`PostgresConfig::index_metadata`] may name (each index slows every write a little).
pub(crate) const MAX_INDEXED_KEYS: usize = 8;

impl PostgresConfig {
    /// Defaults for a libpq-style URL or key-value connection string (`postgres://user@host:5432/db`).
    pub fn new(connect: &str) -> Result<Self> {
        let connect = tokio_postgres::Config::from_str(connect).map_err(|e| {
            Error::invalid("store", format!("not a PostgreSQL connection string: {e}"))
        })?;
        Ok(PostgresConfig {
            connect,
            pool_size: 16,
            pool_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(30)),
            text_search_config: "english".into(),
            pgvector: PgVector::Auto,
            max_vector_indexes: 16,
            dedup: true,
            outbox: false,
            purge_interval: Some(Duration::from_secs(60)),
            purge_batch: 1000,
            limits: Limits::default(),
            index_metadata: Vec::new(),
            auto_index_metadata: 4,
            auto_index_after: 100,
        })
    }

    /// From a parsed `postgres://` URL: takes memlane's options and hands the rest to the driver.
    pub fn from_options(opts: &mut OpenOptions) -> Result<Self> {
        let mut memlane = OpenOptions {
            scheme: opts.scheme.clone(),
            location: String::new(),
            options: Default::default(),
        };
        for key in [
            "pool_size",
            "pool_timeout",
            "connect_timeout",
            "statement_timeout",
            "text_search_config",
            "pgvector",
            "max_vector_indexes",
            "dedup",
            "outbox",
            "purge_interval",
            "purge_batch",
            "max_content_bytes",
            "max_metadata_bytes",
            "max_batch",
            "max_limit",
            "max_dimension",
            "index_metadata",
            "auto_index_metadata",
            "auto_index_after",
        ] {
            if let Some(v) = opts.options.remove(key) {
                memlane.options.insert(key.to_owned(), v);
            }
        }
        let rest: Vec<String> = std::mem::take(&mut opts.options)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut url = format!("postgresql://{}", opts.location);
        if !rest.is_empty() {
            url.push('?');
            url.push_str(&rest.join("&"));
        }
        let mut c = PostgresConfig::new(&url)?;
        c.take(&mut memlane)?;
        memlane.finish()?;
        Ok(c)
    }

    fn take(&mut self, o: &mut OpenOptions) -> Result<()> {
        if let Some(n) = o.take_num::<usize>("pool_size")? {
            if n == 0 {
                return Err(Error::invalid(
                    "store option pool_size",
                    "must be at least 1",
                ));
            }
            self.pool_size = n;
        }
        if let Some(d) = duration(o, "pool_timeout")? {
            self.pool_timeout = d.unwrap_or(Duration::from_secs(3600));
        }
        if let Some(d) = duration(o, "connect_timeout")? {
            self.connect_timeout = d.unwrap_or(Duration::from_secs(3600));
        }
        if let Some(d) = duration(o, "statement_timeout")? {
            self.statement_timeout = d;
        }
        if let Some(cfg) = o.options.remove("text_search_config") {
            let ok = !cfg.is_empty()
                && cfg.len() <= 63
                && cfg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !ok {
                return Err(Error::invalid(
                    "store option text_search_config",
                    format!(
                        "{cfg:?} is not a text search configuration name such as english or simple"
                    ),
                ));
            }
            self.text_search_config = cfg;
        }
        match o.options.remove("pgvector").as_deref() {
            None => {}
            Some("auto") => self.pgvector = PgVector::Auto,
            Some("true" | "1" | "yes" | "on" | "required") => self.pgvector = PgVector::Required,
            Some("false" | "0" | "no" | "off") => self.pgvector = PgVector::Off,
            Some(v) => {
                return Err(Error::invalid(
                    "store option pgvector",
                    format!("{v:?} is not auto, true or false"),
                ))
            }
        }
        if let Some(keys) = o.options.remove("index_metadata") {
            self.index_metadata = indexed_keys(&keys)?;
        }
        if let Some(n) = o.take_num::<usize>("auto_index_metadata")? {
            if n > MAX_INDEXED_KEYS {
                return Err(Error::invalid(
                    "store option auto_index_metadata",
                    format!("at most {MAX_INDEXED_KEYS} keys"),
                ));
            }
            self.auto_index_metadata = n;
        }
        if let Some(n) = o.take_num::<u32>("auto_index_after")? {
            if n < 1 {
                return Err(Error::invalid(
                    "store option auto_index_after",
                    "must be at least 1",
                ));
            }
            self.auto_index_after = n;
        }
        if let Some(n) = o.take_num("max_vector_indexes")? {
            self.max_vector_indexes = n;
        }
        if let Some(d) = o.take_bool("outbox")? {
            self.outbox = d;
        }
        if let Some(d) = o.take_bool("dedup")? {
            self.dedup = d;
        }
        if let Some(d) = duration(o, "purge_interval")? {
            self.purge_interval = d;
        }
        if let Some(n) = o.take_num::<i64>("purge_batch")? {
            if n < 1 {
                return Err(Error::invalid(
                    "store option purge_batch",
                    "must be at least 1",
                ));
            }
            self.purge_batch = n;
        }
        o.take_limits(&mut self.limits)?;
        if let Some(v) = o.take_num("max_dimension")? {
            self.limits.max_dimension = v;
        }
        Ok(())
    }
}

/// A duration option: `500ms`, `30s`, `10m`, or a plain number of seconds; `off` (or `0`) is `Some(None)`.
fn duration(o: &mut OpenOptions, key: &str) -> Result<Option<Option<Duration>>> {
    let Some(v) = o.options.remove(key) else {
        return Ok(None);
    };
    if v == "off" || v == "0" {
        return Ok(Some(None));
    }
    if let Ok(secs) = v.parse::<u64>() {
        return Ok(Some(Some(Duration::from_secs(secs))));
    }
    parse_ttl(&v).map(|d| Some(Some(d))).map_err(|_| {
        Error::invalid(
            format!("store option {key}"),
            format!("{v:?} is not a duration like 30s, or off"),
        )
    })
}

/// The metadata keys of `index_metadata` (comma-separated), checked: they become part of index names and
/// expressions, so only plain names are accepted.
fn indexed_keys(list: &str) -> Result<Vec<String>> {
    let mut keys: Vec<String> = Vec::new();
    for key in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if !super::key_index::is_plain_key(key) {
            return Err(Error::invalid(
                "store option index_metadata",
                format!("{key:?} is not a plain metadata key (1-48 ASCII letters, digits or _)"),
            ));
        }
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
    }
    if keys.len() > MAX_INDEXED_KEYS {
        return Err(Error::invalid(
            "store option index_metadata",
            format!("at most {MAX_INDEXED_KEYS} keys"),
        ));
    }
    Ok(keys)
}
