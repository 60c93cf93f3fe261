//! One tenant's memories and their indexes: by id, newest first, and by content hash (for deduplication).

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use memlane_core::{Cursor, Memory, MemoryId, Scope, Timestamp};

/// The memories of one tenant. Expired memories may still be here (until purged) but are never handed out by the
/// `live*` methods.
#[derive(Debug, Default)]
pub(super) struct Tenant {
    by_id: HashMap<MemoryId, Memory>,
    /// `(created_at, id)` of every memory: iterated backwards, the newest-first order of `list`.
    order: BTreeSet<(Timestamp, MemoryId)>,
    /// content hash → ids with that content.
    by_hash: HashMap<String, BTreeSet<MemoryId>>,
}

impl Tenant {
    /// Whether it holds nothing (not even expired memories).
    pub(super) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The memory with `id`, unless it is absent or expired at `now`.
    pub(super) fn live(&self, id: MemoryId, now: Timestamp) -> Option<&Memory> {
        self.by_id.get(&id).filter(|m| !m.is_expired(now))
    }

    /// A live memory whose scope is exactly `scope` and whose content hash is `hash`.
    pub(super) fn find_duplicate(
        &self,
        scope: &Scope,
        hash: &str,
        now: Timestamp,
    ) -> Option<&Memory> {
        self.by_hash
            .get(hash)?
            .iter()
            .filter_map(|id| self.live(*id, now))
            .find(|m| m.scope == *scope)
    }

    /// Live memories newest first, starting after `cursor`.
    pub(super) fn newest_first(
        &self,
        cursor: Option<Cursor>,
        now: Timestamp,
    ) -> impl Iterator<Item = &Memory> + '_ {
        let upper = match cursor {
            Some(c) => Bound::Excluded((c.created_at, c.id)),
            None => Bound::Unbounded,
        };
        self.order
            .range((Bound::Unbounded, upper))
            .rev()
            .filter_map(move |(_, id)| self.live(*id, now))
    }

    /// Stores `m`, replacing any memory with its id (live or expired).
    pub(super) fn insert(&mut self, m: Memory) {
        self.remove(m.id);
        self.order.insert((m.created_at, m.id));
        self.by_hash
            .entry(m.content_hash.clone())
            .or_default()
            .insert(m.id);
        self.by_id.insert(m.id, m);
    }

    /// Removes the memory with `id` (live or expired) and returns it.
    pub(super) fn remove(&mut self, id: MemoryId) -> Option<Memory> {
        let m = self.by_id.remove(&id)?;
        self.order.remove(&(m.created_at, m.id));
        if let Some(ids) = self.by_hash.get_mut(&m.content_hash) {
            ids.remove(&m.id);
            if ids.is_empty() {
                self.by_hash.remove(&m.content_hash);
            }
        }
        Some(m)
    }

    /// Removes every memory for which `doomed` holds; returns how many of them were live at `now`.
    pub(super) fn remove_where(&mut self, now: Timestamp, doomed: impl Fn(&Memory) -> bool) -> u64 {
        let ids: Vec<(MemoryId, bool)> = self
            .by_id
            .values()
            .filter(|m| doomed(m))
            .map(|m| (m.id, !m.is_expired(now)))
            .collect();
        let mut live = 0;
        for (id, was_live) in ids {
            self.remove(id);
            live += u64::from(was_live);
        }
        live
    }

    /// Removes every memory expired at `now`; returns how many.
    pub(super) fn purge_expired(&mut self, now: Timestamp) -> u64 {
        let ids: Vec<MemoryId> = self
            .by_id
            .values()
            .filter(|m| m.is_expired(now))
            .map(|m| m.id)
            .collect();
        for id in &ids {
            self.remove(*id);
        }
        ids.len() as u64
    }
}
