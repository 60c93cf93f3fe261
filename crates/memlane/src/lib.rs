//! # memlane
//!
//! One memory interface for AI agents ([`MemoryStore`]) over the storage a team already runs, and the factory
//! that opens a store from a URL:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> memlane::Result<()> {
//! use memlane::{MemoryStoreExt, NewMemory, Scope, SearchQuery};
//! let dir = tempfile::tempdir().unwrap();
//! let store = memlane::open(dir.path().to_str().unwrap()).await?;
//! let alice = Scope::tenant("acme").with_user("alice");
//! store.add_one(NewMemory::new(alice.clone(), "Alice prefers dark mode in her editor")).await?;
//! let hits = store.search(&SearchQuery::new(alice, "dark mode")).await?;
//! assert_eq!(hits[0].memory.content, "Alice prefers dark mode in her editor");
//! # Ok(()) }
//! ```
//!
//! Backends, each behind a cargo feature of the same name: `memory` (in process, for tests and caches),
//! `embedded` (the default: one local directory, no server).
#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::unwrap_used)]

pub use memlane_core::*;

mod factory;
pub use factory::{available_schemes, open, open_with, OpenOptions};

pub mod layers;

pub mod compat;

pub mod migrate;

#[cfg(feature = "embed")]
mod embedder;

#[cfg(feature = "memory")]
pub mod memory;

#[cfg(feature = "embedded")]
pub mod embedded;

#[cfg(feature = "redis")]
pub mod redis;

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "composite")]
pub mod composite;

#[cfg(feature = "vector")]
pub mod vector;

#[cfg(any(feature = "embedded", feature = "vector"))]
mod sqlite;
