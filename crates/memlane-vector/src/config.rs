//! How an index is built and kept: graph tunables, durability, compression.

use serde::{Deserialize, Serialize};

/// When the write-ahead log is forced to stable storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// `fdatasync` before every write is acknowledged: survives power loss. The default.
    #[default]
    Always,
    /// Leave flushing to the OS: survives a killed process (the data is in the page cache), not a power loss.
    Never,
}

/// How vectors are held for the graph walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Compression {
    /// Full `f32` vectors in RAM. Fastest, `4 * dimension` bytes per vector.
    #[default]
    None,
    /// Product-quantized codes in RAM (`subspaces` bytes per vector) steer the walk; full vectors stay in a
    /// memory-mapped file and rescore the candidates. The codebooks are learned once the index holds `train_size`
    /// vectors (until then the walk reads the mapped vectors).
    Pq {
        /// Bytes per code: a multiple of 4 that divides the dimension padded to a multiple of 8.
        subspaces: usize,
        /// Vectors to collect before learning the codebooks (and how many to learn from).
        train_size: usize,
    },
}

/// The configuration of an [`Index`](crate::Index).
///
/// The structural fields (`dimension`, `m`, `m0`, `compression`) are fixed when the index is created; reopening
/// with other values is an [`Error::InvalidConfig`](crate::Error::InvalidConfig). The others may change between
/// openings.
///
/// ```
/// let config = memlane_vector::IndexConfig { m: 12, ef_search: 80, ..memlane_vector::IndexConfig::new(384) };
/// assert_eq!(config.dimension, 384);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IndexConfig {
    /// Vector length.
    pub dimension: usize,
    /// Links per node on upper levels (and picked per insert); level 0 keeps up to `m0`.
    pub m: usize,
    /// Links per node on level 0; 0 means `2 * m`.
    pub m0: usize,
    /// Candidate list size while inserting: higher builds a better graph, slower.
    pub ef_construction: usize,
    /// Default candidate list size while searching (raised to `k` when smaller).
    pub ef_search: usize,
    /// Durability of each acknowledged write.
    pub fsync: FsyncPolicy,
    /// Full vectors in RAM or compact codes.
    pub compression: Compression,
    /// Write a snapshot (and empty the log) once the log exceeds this many bytes; 0 never does it by itself.
    pub snapshot_wal_bytes: u64,
    /// Filtered searches whose filter keeps at most this fraction of the vectors scan those exactly.
    pub exact_scan_fraction: f64,
    /// Filtered searches whose filter keeps at most this many vectors scan them exactly.
    pub exact_scan_max: usize,
    /// Threads for batch inserts, compaction and training; 0 means one per core.
    pub threads: usize,
    /// Seed of the level draws (a fixed seed makes builds repeatable single-threaded).
    pub seed: u64,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            dimension: 0,
            m: 16,
            m0: 0,
            ef_construction: 100,
            ef_search: 64,
            fsync: FsyncPolicy::Always,
            compression: Compression::None,
            snapshot_wal_bytes: 256 << 20,
            exact_scan_fraction: 0.03,
            exact_scan_max: 2048,
            threads: 0,
            seed: 0x5EED,
        }
    }
}

impl IndexConfig {
    /// Defaults for vectors of `dimension` floats.
    pub fn new(dimension: usize) -> Self {
        IndexConfig {
            dimension,
            ..Default::default()
        }
    }

    /// The level-0 list size in effect.
    pub fn level0_links(&self) -> usize {
        if self.m0 == 0 {
            2 * self.m
        } else {
            self.m0
        }
    }

    /// Checks ranges and combinations.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |s: String| Err(crate::Error::InvalidConfig(s));
        if self.dimension == 0 || self.dimension > 65_536 {
            return bad(format!(
                "dimension must be in 1..=65536, not {}",
                self.dimension
            ));
        }
        if !(2..=128).contains(&self.m) || self.level0_links() < self.m || self.level0_links() > 256
        {
            return bad(format!(
                "m must be in 2..=128 and m0 in m..=256 (m = {}, m0 = {})",
                self.m, self.m0
            ));
        }
        if self.ef_construction == 0 || self.ef_search == 0 {
            return bad("ef_construction and ef_search must be positive".into());
        }
        if let Compression::Pq {
            subspaces,
            train_size,
        } = self.compression
        {
            let padded = crate::distance::padded(self.dimension);
            if padded.checked_rem(subspaces) != Some(0) || subspaces.checked_rem(4) != Some(0) {
                return bad(format!(
                    "pq subspaces ({subspaces}) must be a multiple of 4 that divides the padded dimension {padded}"
                ));
            }
            if train_size < crate::quant::CENTROIDS {
                return bad(format!(
                    "pq train_size must be at least {}",
                    crate::quant::CENTROIDS
                ));
            }
        }
        Ok(())
    }
}
