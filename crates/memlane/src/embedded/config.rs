//! The embedded store's settings.

use std::path::PathBuf;
use std::time::Duration;

use memlane_core::{parse_ttl, Error, Limits, Result};

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

/// Settings of [`super::EmbeddedStore`]; URL options in brackets.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// The directory; created if missing.
    pub path: PathBuf,
    /// Deduplicate equal content in the same scope by default (`dedup`, default true).
    pub dedup: bool,
    /// Durability of commits (`sync=full|normal`, default full).
    pub sync: SyncMode,
    /// How often expired memories are deleted (`purge_interval`, e.g. `30s`; default 10s).
    pub purge_interval: Duration,
    /// Reader connections at most (`readers`, default 8).
    pub readers: u32,
    /// Size limits (`max_content_bytes`, `max_metadata_bytes`, `max_batch`, `max_limit`).
    pub limits: Limits,
    /// The one embedding model this store holds vectors of, when an embedder is configured: recorded at the first
    /// open; opening with another model, or adding a vector of another model, is refused (re-index instead).
    pub embedding_model: Option<String>,
}

impl EmbeddedConfig {
    /// Defaults for a directory.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        EmbeddedConfig {
            path: path.into(),
            dedup: true,
            sync: SyncMode::Full,
            purge_interval: Duration::from_secs(10),
            readers: 8,
            limits: Limits::default(),
            embedding_model: None,
        }
    }

    /// From a parsed URL, taking the options it knows and refusing others.
    pub fn from_options(opts: &mut OpenOptions) -> Result<Self> {
        if opts.location.is_empty() {
            return Err(Error::invalid(
                "store",
                "the embedded store needs a directory, e.g. embedded://./memlane-data",
            ));
        }
        let mut c = EmbeddedConfig::new(&opts.location);
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
        // Set by the factory when it wraps the store with an embedder.
        c.embedding_model = opts.options.remove("embedding_model");
        opts.finish()?;
        Ok(c)
    }
}
