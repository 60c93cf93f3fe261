//! The vector store's settings, and how they come from a `vector://PATH?...` URL.

use std::path::PathBuf;
use std::time::Duration;

use memlane_core::{Error, Limits, Result};
use memlane_vector::{Compression, FsyncPolicy, IndexConfig};

use crate::sqlite::LocalOptions;
pub use crate::sqlite::SyncMode;
use crate::OpenOptions;

/// Reader connections of the payload database by default.
const READERS: u32 = 4;

/// Settings of [`super::VectorStore`]; URL options in brackets.
///
/// ```
/// let mut opts = memlane::OpenOptions::parse("vector:///tmp/mem?ef_search=128&m=12&dedup=false").unwrap();
/// let c = memlane::vector::VectorConfig::from_options(&mut opts).unwrap();
/// assert_eq!((c.index.ef_search, c.index.m, c.dedup), (128, 12, false));
/// ```
#[derive(Debug, Clone)]
pub struct VectorConfig {
    /// The directory; created if missing.
    pub path: PathBuf,
    /// Deduplicate equal content in the same scope by default (`dedup`, default true).
    pub dedup: bool,
    /// Durability of the payload's commits (`sync=full|normal`, default full).
    pub sync: SyncMode,
    /// How often expired memories are deleted (`purge_interval`, e.g. `30s`; default 10s).
    pub purge_interval: Duration,
    /// Reader connections of the payload database at most (`readers`, default 4).
    pub readers: u32,
    /// Size limits (`max_content_bytes`, `max_metadata_bytes`, `max_batch`, `max_limit`).
    pub limits: Limits,
    /// The one embedding model this store holds vectors of, when an embedder is configured: recorded at the first
    /// open; opening with another model, or adding a vector of another model, is refused (re-index instead).
    pub embedding_model: Option<String>,
    /// The settings of every vector index the store creates (one per model and dimension): `m`,
    /// `ef_construction`, `ef_search`, `exact_scan_max`, `exact_scan_fraction`, `pq_subspaces` with
    /// `pq_train_size` (compressed mode), `snapshot_wal_mb`, `threads`. `dimension` is set per index and `fsync`
    /// is always `never` (the payload database is the record of truth; see the module docs).
    pub index: IndexConfig,
}

impl VectorConfig {
    /// Defaults for a directory.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::with(path.into(), LocalOptions::new(READERS))
    }

    fn with(path: PathBuf, o: LocalOptions) -> Self {
        VectorConfig {
            path,
            dedup: o.dedup,
            sync: o.sync,
            purge_interval: o.purge_interval,
            readers: o.readers,
            limits: o.limits,
            embedding_model: o.embedding_model,
            index: IndexConfig {
                fsync: FsyncPolicy::Never,
                snapshot_wal_bytes: 64 << 20,
                // Scoring a few thousand 384-d vectors exactly beats a filtered walk (measured: benches/vector.rs).
                exact_scan_max: 16_384,
                ..IndexConfig::default()
            },
        }
    }

    /// From a parsed URL, taking the options it knows and refusing others.
    pub fn from_options(opts: &mut OpenOptions) -> Result<Self> {
        let o = LocalOptions::take(opts, READERS, "vector", "vector://./memlane-vectors")?;
        let mut c = Self::with(opts.location.clone().into(), o);
        index_options(opts, &mut c.index)?;
        opts.finish()?;
        Ok(c)
    }
}

/// Takes the index's tunables from the URL and checks them (with a stand-in dimension; the real one is set per
/// index).
fn index_options(opts: &mut OpenOptions, ix: &mut IndexConfig) -> Result<()> {
    if let Some(v) = opts.take_num("m")? {
        ix.m = v;
    }
    if let Some(v) = opts.take_num("ef_construction")? {
        ix.ef_construction = v;
    }
    if let Some(v) = opts.take_num("ef_search")? {
        ix.ef_search = v;
    }
    if let Some(v) = opts.take_num("exact_scan_max")? {
        ix.exact_scan_max = v;
    }
    if let Some(v) = opts.take_num::<f64>("exact_scan_fraction")? {
        if !(0.0..=1.0).contains(&v) {
            return Err(Error::invalid(
                "store option exact_scan_fraction",
                "must be between 0 and 1",
            ));
        }
        ix.exact_scan_fraction = v;
    }
    if let Some(v) = opts.take_num::<u64>("snapshot_wal_mb")? {
        ix.snapshot_wal_bytes = v << 20;
    }
    if let Some(v) = opts.take_num("threads")? {
        ix.threads = v;
    }
    let train: Option<usize> = opts.take_num("pq_train_size")?;
    match opts.take_num::<usize>("pq_subspaces")? {
        None | Some(0) if train.is_some() => {
            return Err(Error::invalid(
                "store option pq_train_size",
                "goes with pq_subspaces",
            ))
        }
        None | Some(0) => {}
        Some(subspaces) => {
            ix.compression = Compression::Pq {
                subspaces,
                train_size: train.unwrap_or(50_000),
            }
        }
    }
    // The structural checks that do not depend on the dimension (PQ's divisibility is checked per index).
    let probe = IndexConfig {
        dimension: 8,
        compression: Compression::None,
        ..ix.clone()
    };
    probe
        .validate()
        .map_err(|e| Error::invalid("store options", e.to_string()))
}
