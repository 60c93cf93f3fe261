//! What the two SQLite-backed local stores (`embedded://` and `vector://`) share: their durability setting, the
//! URL options they both take, the mapping of SQLite's errors, and the pinning of a store's embedding model.
//! Each store keeps its own schema; only the plumbing lives here.

use std::time::Duration;

use memlane_core::{parse_ttl, Error, Limits, Result};
use rusqlite::{Connection, ErrorCode, OptionalExtension};

use crate::OpenOptions;

/// How hard SQLite works to make a commit durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// fsync on every commit: an acknowledged write survives power loss (the default).
    #[default]
    Full,
    /// fsync at checkpoints only: an acknowledged write survives the process being killed, not power loss.
    Normal,
}

impl SyncMode {
    /// The value of SQLite's `synchronous` pragma.
    fn pragma(self) -> &'static str {
        match self {
            SyncMode::Full => "FULL",
            SyncMode::Normal => "NORMAL",
        }
    }
}

/// Write-ahead logging with `sync`, and a busy timeout: what every connection of a local store gets.
pub(crate) fn configure_wal(
    conn: &Connection,
    sync: SyncMode,
    busy: Duration,
) -> rusqlite::Result<()> {
    conn.busy_timeout(busy)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", sync.pragma())
}

/// The URL options both local stores take, with their defaults.
#[derive(Debug, Clone)]
pub(crate) struct LocalOptions {
    /// `dedup`, default true.
    pub(crate) dedup: bool,
    /// `sync=full|normal`, default full.
    pub(crate) sync: SyncMode,
    /// `purge_interval`, default 10 s.
    pub(crate) purge_interval: Duration,
    /// `readers`, at least 1.
    pub(crate) readers: u32,
    /// `max_content_bytes`, `max_metadata_bytes`, `max_batch`, `max_limit`.
    pub(crate) limits: Limits,
    /// Set by the factory when it wraps the store with an embedder.
    pub(crate) embedding_model: Option<String>,
}

impl LocalOptions {
    /// The defaults, with `readers` reader connections.
    pub(crate) fn new(readers: u32) -> Self {
        LocalOptions {
            dedup: true,
            sync: SyncMode::Full,
            purge_interval: Duration::from_secs(10),
            readers,
            limits: Limits::default(),
            embedding_model: None,
        }
    }

    /// Takes the shared options out of `opts` (the caller takes its own, then calls [`OpenOptions::finish`]);
    /// `store` and `example` (a URL) make the error when the directory is missing.
    pub(crate) fn take(
        opts: &mut OpenOptions,
        readers: u32,
        store: &str,
        example: &str,
    ) -> Result<Self> {
        if opts.location.is_empty() {
            return Err(Error::invalid(
                "store",
                format!("the {store} store needs a directory, e.g. {example}"),
            ));
        }
        let mut c = LocalOptions::new(readers);
        if let Some(d) = opts.take_bool("dedup")? {
            c.dedup = d;
        }
        match opts.options.remove("sync").as_deref() {
            None => {}
            Some("full") => c.sync = SyncMode::Full,
            Some("normal") => c.sync = SyncMode::Normal,
            Some(other) => {
                return Err(Error::invalid(
                    "store option sync",
                    format!("{other:?} is not full or normal"),
                ))
            }
        }
        if let Some(p) = opts.options.remove("purge_interval") {
            c.purge_interval = parse_ttl(&p).map_err(|_| {
                Error::invalid(
                    "store option purge_interval",
                    format!("{p:?} is not a duration like 30s"),
                )
            })?;
        }
        if let Some(r) = opts.take_num::<u32>("readers")? {
            if r == 0 {
                return Err(Error::invalid("store option readers", "must be at least 1"));
            }
            c.readers = r;
        }
        opts.take_limits(&mut c.limits)?;
        c.embedding_model = opts.options.remove("embedding_model");
        Ok(c)
    }
}

/// A SQLite error of `backend` as a memlane error: busy, locked, full disk and I/O errors are temporary
/// ([`memlane_core::ErrorKind::Unavailable`]); constraint violations are conflicts; the rest are internal.
pub(crate) fn map_error(backend: &'static str, e: rusqlite::Error) -> Error {
    let msg = e.to_string();
    match e.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::OutOfMemory,
        ) => Error::unavailable(backend, msg, Some(Box::new(e))),
        Some(ErrorCode::ConstraintViolation) => Error::conflict(backend, msg),
        _ => Error::internal(backend, msg, Some(Box::new(e))),
    }
}

/// A connection-pool error: no connection could be had in time (temporary).
pub(crate) fn pool_error(backend: &'static str, e: r2d2::Error) -> Error {
    Error::unavailable(
        backend,
        format!("no database connection: {e}"),
        Some(Box::new(e)),
    )
}

/// A blocking task that panicked or was cancelled.
pub(crate) fn join_error(backend: &'static str, e: tokio::task::JoinError) -> Error {
    Error::internal(
        backend,
        format!("background task failed: {e}"),
        Some(Box::new(e)),
    )
}

/// Stored data that cannot be decoded: corruption or a bug.
pub(crate) fn corrupt(backend: &'static str, what: impl std::fmt::Display) -> Error {
    Error::internal(backend, format!("stored data is corrupt: {what}"), None)
}

/// The error for a vector of another model than the store's.
pub(crate) fn other_model(field: &str, got: &str, store: &str) -> Error {
    Error::invalid(
        field,
        format!(
            "this store's embeddings are from the model {store:?}, not {got:?}: to change the model, re-index the store \
             (memlane reindex --model DIR) instead of mixing vectors"
        ),
    )
}

/// Records `model` as the store's embedding model in its `settings (key, value)` table, or refuses it when the
/// store holds vectors of another one: the pinned model, else the first model `other_sql` (a query with `?1` = the
/// model, answering one model name) finds.
pub(crate) fn pin_model(
    backend: &'static str,
    conn: &mut Connection,
    model: &str,
    other_sql: &str,
) -> Result<()> {
    let map = |e| map_error(backend, e);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(map)?;
    let pinned: Option<String> = tx
        .query_row(
            "SELECT value FROM settings WHERE key = 'embedding_model'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(map)?;
    let existing: Option<String> = match pinned {
        Some(p) => Some(p),
        None => tx
            .query_row(other_sql, [model], |r| r.get(0))
            .optional()
            .map_err(map)?,
    };
    if let Some(e) = existing.filter(|e| e != model) {
        return Err(Error::invalid(
            "embedder",
            format!(
                "this store's embeddings are from the model {e:?}; opening it with {model:?} would mix vectors of two \
                 models: re-index it (memlane reindex --model DIR) or open it with the model it was built with"
            ),
        ));
    }
    tx.execute(
        "INSERT OR IGNORE INTO settings (key, value) VALUES ('embedding_model', ?1)",
        [model],
    )
    .map_err(map)?;
    tx.commit().map_err(map)
}
