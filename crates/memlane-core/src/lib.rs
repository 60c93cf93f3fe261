//! # memlane-core
//!
//! The shared ground of memlane, a memory system for AI agents: the memory model ([`Memory`], [`Scope`],
//! [`Kind`]), the [`MemoryStore`] contract every backend keeps, its helpers ([`MemoryStoreExt`]), the one
//! [`Error`] type, [`Capabilities`], the [`Filter`] language, the portable [`export`] format, the [`Embedder`]
//! trait and, behind the `testkit` feature, the conformance suite every backend runs.
//!
//! Backends and the `open(url)` factory live in the `memlane` crate.
#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::unwrap_used)]

mod capabilities;
mod change;
pub mod checksum;
mod embed;
mod error;
pub mod export;
mod ext;
pub mod filter;
mod limits;
mod memory;
mod query;
mod scope;
mod store;
mod time;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use capabilities::{Capabilities, Capability};
pub use change::{Change, ChangeLease, ChangeLog, LoggedChange};
pub use embed::Embedder;
pub use error::{Backend, BoxError, Error, ErrorKind, Result};
pub use ext::MemoryStoreExt;
pub use filter::Filter;
pub use limits::{Limits, MAX_NAME_BYTES};
pub use memory::{
    content_hash, new_id, parse_id, Embedding, Kind, Memory, MemoryId, NewMemory, Update,
};
pub use query::{
    AddOptions, Added, Cursor, ListQuery, Page, Scored, SearchMode, SearchQuery, DEFAULT_LIMIT,
};
pub use scope::Scope;
pub use store::MemoryStore;
pub use time::{parse_ttl, Timestamp};
