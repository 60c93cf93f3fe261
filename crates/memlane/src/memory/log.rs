//! The in-process store's change log (`memory://?outbox=true`): the [`ChangeLog`] the composite store replays, kept
//! in memory beside the memories and appended under the same write lock as each write, so it has exactly the
//! writes' order. Lets the composite store be tested without servers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use memlane_core::{Change, ChangeLease, ChangeLog, Error, LoggedChange, Result};

use super::{poisoned, NAME};

/// The changes not trimmed yet, and the consumers' positions.
#[derive(Debug, Default)]
struct State {
    changes: VecDeque<LoggedChange>,
    head: u64,
    cursors: HashMap<String, u64>,
    leases: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

/// A change log in memory. See the [module docs](self).
#[derive(Debug, Default)]
pub(super) struct MemoryLog {
    state: Arc<Mutex<State>>,
}

impl MemoryLog {
    /// Appends changes, in order. Called while the store's write lock is held.
    pub(super) fn append(&self, changes: impl IntoIterator<Item = Change>) -> Result<()> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        for change in changes {
            s.head += 1;
            let seq = s.head;
            s.changes.push_back(LoggedChange { seq, change });
        }
        Ok(())
    }
}

/// The lease of one consumer: holds its lock until dropped.
struct Lease {
    state: Arc<Mutex<State>>,
    consumer: String,
    position: u64,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

#[async_trait]
impl ChangeLease for Lease {
    fn position(&self) -> u64 {
        self.position
    }

    async fn next(&mut self, limit: usize) -> Result<Vec<LoggedChange>> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        let start = s.changes.partition_point(|c| c.seq <= self.position);
        Ok(s.changes.iter().skip(start).take(limit).cloned().collect())
    }

    async fn advance(&mut self, seq: u64) -> Result<()> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        s.cursors.insert(self.consumer.clone(), seq);
        self.position = seq;
        Ok(())
    }

    async fn release(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl ChangeLog for MemoryLog {
    async fn head(&self) -> Result<u64> {
        Ok(self.state.lock().map_err(|_| poisoned())?.head)
    }

    async fn cursor(&self, consumer: &str) -> Result<u64> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        Ok(s.cursors.get(consumer).copied().unwrap_or(0))
    }

    async fn register(&self, consumer: &str) -> Result<u64> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        let head = s.head;
        Ok(*s.cursors.entry(consumer.to_owned()).or_insert(head))
    }

    async fn lease(&self, consumer: &str, wait: Duration) -> Result<Box<dyn ChangeLease>> {
        let lock = {
            let mut s = self.state.lock().map_err(|_| poisoned())?;
            s.leases.entry(consumer.to_owned()).or_default().clone()
        };
        let guard = tokio::time::timeout(wait, lock.lock_owned())
            .await
            .map_err(|_| {
                Error::unavailable(
                    NAME,
                    format!("the change log of {consumer:?} is being replayed by another replayer"),
                    None,
                )
            })?;
        let position = self.cursor(consumer).await?;
        Ok(Box::new(Lease {
            state: self.state.clone(),
            consumer: consumer.to_owned(),
            position,
            _guard: guard,
        }))
    }

    async fn trim(&self, seq: u64) -> Result<u64> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        let n = s.changes.partition_point(|c| c.seq <= seq);
        s.changes.drain(..n);
        Ok(n as u64)
    }
}
