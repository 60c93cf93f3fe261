//! # memlane-vector
//!
//! memlane's own vector index: an HNSW graph over cosine similarity with `u64` ids, made durable by a write-ahead
//! log and snapshots, with filtered search (exact scan or filtered walk, chosen by a planner) and a compressed mode
//! (product-quantized codes in RAM, full vectors memory-mapped for rescoring).
//!
//! The crate has no dependency on the rest of memlane; the `vector` backend maps memory ids onto its `u64` ids.
//!
//! ```
//! use memlane_vector::{Filter, Index, IndexConfig, SearchParams};
//! let dir = tempfile::tempdir()?;
//! let index = Index::open(dir.path(), IndexConfig { m: 8, ..IndexConfig::new(4) })?;
//! index.insert(7, &[0.1, 0.2, 0.3, 0.4])?;
//! index.insert(8, &[0.4, 0.3, 0.2, 0.1])?;
//! let odd = |id: u64| id % 2 == 1;
//! let params = SearchParams { filter: Filter::Predicate { keep: &odd, estimate: None }, ..Default::default() };
//! let hits = index.search(&[0.4, 0.3, 0.2, 0.1], 5, &params)?;
//! assert_eq!(hits[0].0, 7);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See `docs/vector-index.md` in the repository for the design, the file formats and measured performance.
#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::unwrap_used)]

mod config;
mod core;
mod distance;
mod error;
mod filter;
mod graph;
mod heap;
mod index;
mod nodes;
mod quant;
mod snapshot;
mod storage;
mod visited;
mod wal;

pub use config::{Compression, FsyncPolicy, IndexConfig};
pub use error::{Error, Result};
pub use filter::{Filter, SearchParams};
pub use index::{Index, MemoryUsage};
