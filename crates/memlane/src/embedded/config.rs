//! The embedded store's settings.

use std::path::PathBuf;
use std::time::Duration;

use memlane_core::{Limits, Result};

use crate::sqlite::LocalOptions;
pub use crate::sqlite::SyncMode;
use crate::OpenOptions;

/// Reader connections by default.
const READERS: u32 = 8;

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
        Self::with(path.into(), LocalOptions::new(READERS))
    }

    fn with(path: PathBuf, o: LocalOptions) -> Self {
        EmbeddedConfig {
            path,
            dedup: o.dedup,
            sync: o.sync,
            purge_interval: o.purge_interval,
            readers: o.readers,
            limits: o.limits,
            embedding_model: o.embedding_model,
        }
    }

    /// From a parsed URL, taking the options it knows and refusing others.
    pub fn from_options(opts: &mut OpenOptions) -> Result<Self> {
        let o = LocalOptions::take(opts, READERS, "embedded", "embedded://./memlane-data")?;
        opts.finish()?;
        Ok(Self::with(opts.location.clone().into(), o))
    }
}
