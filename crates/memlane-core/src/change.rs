//! The change log (outbox) a record-of-truth store may keep: every write it acknowledges, in commit order, so that
//! other stores (a cache, a search index) can replay them and catch up by themselves after an outage.
//!
//! A store that keeps one returns it from [`crate::MemoryStore::change_log`]; the composite store reads it without
//! knowing the backend. Changes carry the whole new state of a memory (not the request that made it), so replaying
//! one twice, or replaying it over a store that already has it, leaves the same result: replay is idempotent.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Memory, MemoryId, Result, Scope};

/// One change to the memories of a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// A memory was added or updated: this is its new state.
    Upsert {
        /// The memory as stored.
        memory: Memory,
    },
    /// A memory was deleted.
    Delete {
        /// Its tenant.
        tenant: String,
        /// Its id.
        id: MemoryId,
    },
    /// Every memory of a scope was deleted.
    Forget {
        /// The scope.
        scope: Scope,
    },
}

/// A [`Change`] with its position in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedChange {
    /// Its sequence number: increasing in commit order (gaps are possible, reordering is not).
    pub seq: u64,
    /// What changed.
    pub change: Change,
}

/// A store's change log: an ordered, durable list of its changes, written in the same transaction as each write,
/// and a saved position per consumer (each replica replaying it).
///
/// Replay goes through a [`ChangeLease`]: one replayer per consumer at a time, across processes, so that changes
/// reach each replica in order even when several servers share the record of truth. Object safe; see
/// [`crate::MemoryStore::change_log`].
#[async_trait]
pub trait ChangeLog: Send + Sync + Debug {
    /// The sequence number of the latest change (0 when there is none).
    async fn head(&self) -> Result<u64>;

    /// The saved position of `consumer`: every change up to it is applied (0 when it has none).
    async fn cursor(&self, consumer: &str) -> Result<u64>;

    /// Gives `consumer` a position at the head when it has none (a new replica follows the changes from now on;
    /// what was written before is copied by a repair); returns its position.
    async fn register(&self, consumer: &str) -> Result<u64>;

    /// Takes the replay lease of `consumer`, waiting up to `wait` while another replayer holds it;
    /// [`crate::ErrorKind::Unavailable`] when it is still held then.
    async fn lease(&self, consumer: &str, wait: Duration) -> Result<Box<dyn ChangeLease>>;

    /// Deletes the changes up to `seq` (every consumer has applied them); returns how many.
    async fn trim(&self, seq: u64) -> Result<u64>;
}

/// The exclusive right to replay a change log for one consumer, from its saved position. Dropped without
/// [`ChangeLease::release`], it is released all the same (the position saved by [`ChangeLease::advance`] stays).
#[async_trait]
pub trait ChangeLease: Send {
    /// The position: every change up to it is applied.
    fn position(&self) -> u64;

    /// Up to `limit` changes after the position, oldest first. A change appears only once every change before it
    /// (in commit order) does: reading never skips one that commits later.
    async fn next(&mut self, limit: usize) -> Result<Vec<LoggedChange>>;

    /// Saves the position: every change up to `seq` is applied.
    async fn advance(&mut self, seq: u64) -> Result<()>;

    /// Lets another replayer take the lease.
    async fn release(self: Box<Self>) -> Result<()>;
}
