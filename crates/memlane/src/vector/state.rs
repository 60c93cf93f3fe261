//! The store's memories in RAM, per tenant: by id, newest first, by content hash (deduplication) and by vector id
//! (what the index returns). Loaded from the payload database at open and kept in step after each commit.
//!
//! Each memory is held without its vector: an embedding keeps its model name and an empty vector here, and the
//! vector itself stays in the index (normalized) and in the payload database (as given), read back for results.

use std::collections::{BTreeSet, HashMap, HashSet};

/// A map with a fast hash (foldhash): these are probed for every node a filtered search visits.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// A set with a fast hash.
pub(crate) type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;
use std::ops::Bound;

use memlane_core::{Cursor, Memory, MemoryId, Scope, Timestamp};

/// Where a memory's vector is in the vector indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VecRef {
    /// The index's number (one index per model and dimension).
    pub(crate) index: u32,
    /// The vector's id in that index; never reused for another vector.
    pub(crate) id: u64,
}

/// One memory: its fields without the vector, and where its vector is indexed (none for memories without an
/// embedding or with an all-zero vector, which has no direction and is never a semantic match).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) memory: Memory,
    pub(crate) vec: Option<VecRef>,
}

/// The memories of one tenant. Expired memories may still be here (until purged) but the `live*` methods never
/// hand them out.
#[derive(Debug, Default)]
pub(crate) struct Tenant {
    by_id: FastMap<MemoryId, Entry>,
    /// `(created_at, id)` of every memory: iterated backwards, the newest-first order of `list`.
    order: BTreeSet<(Timestamp, MemoryId)>,
    /// content hash → ids with that content.
    by_hash: HashMap<String, BTreeSet<MemoryId>>,
    /// vector id → what a search tests without touching the memory.
    by_vec: FastMap<u64, VecInfo>,
    /// The vector ids of each user, agent and session: a scoped search starts from the smallest that applies.
    by_scope: FastMap<(ScopeField, String), FastSet<u64>>,
}

/// What a search needs to know of a vector's memory before its filter: which memory, which index, its expiry.
#[derive(Debug, Clone, Copy)]
struct VecInfo {
    id: MemoryId,
    index: u32,
    expires_at: Option<Timestamp>,
}

/// A scope field below the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ScopeField {
    User,
    Agent,
    Session,
}

/// The scope fields `scope` sets, with their values.
fn scope_keys(scope: &Scope) -> impl Iterator<Item = (ScopeField, &String)> {
    [
        (ScopeField::User, scope.user.as_ref()),
        (ScopeField::Agent, scope.agent.as_ref()),
        (ScopeField::Session, scope.session.as_ref()),
    ]
    .into_iter()
    .filter_map(|(f, v)| Some((f, v?)))
}

impl Tenant {
    /// Whether it holds nothing (not even expired memories).
    pub(crate) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The entry with `id`, live or expired.
    pub(crate) fn entry(&self, id: MemoryId) -> Option<&Entry> {
        self.by_id.get(&id)
    }

    /// The entry with `id`, unless it is absent or expired at `now`.
    pub(crate) fn live(&self, id: MemoryId, now: Timestamp) -> Option<&Entry> {
        self.by_id.get(&id).filter(|e| !e.memory.is_expired(now))
    }

    /// The entry whose vector has id `v` (live or expired).
    pub(crate) fn by_vec(&self, v: u64) -> Option<&Entry> {
        self.by_id.get(&self.by_vec.get(&v)?.id)
    }

    /// Whether vector `v` is in index `no`, unexpired at `now`, and its memory in `scope` — tested on the vector
    /// maps alone, without touching the memory.
    pub(crate) fn vec_in_scope(&self, v: u64, no: u32, scope: &Scope, now: Timestamp) -> bool {
        let Some(info) = self.by_vec.get(&v) else {
            return false;
        };
        info.index == no
            && info.expires_at.is_none_or(|e| e > now)
            && scope_keys(scope).all(|(f, value)| {
                self.by_scope
                    .get(&(f, value.clone()))
                    .is_some_and(|set| set.contains(&v))
            })
    }

    /// The ids of this tenant's vectors.
    pub(crate) fn vectors(&self) -> impl Iterator<Item = u64> + '_ {
        self.by_vec.keys().copied()
    }

    /// The vector ids of the memories in `scope` when it names a user, agent or session (the smallest such
    /// set; its members still have to be checked against the whole scope); `None` for the whole tenant.
    pub(crate) fn scoped_vectors(&self, scope: &Scope) -> Option<&FastSet<u64>> {
        static EMPTY: std::sync::OnceLock<FastSet<u64>> = std::sync::OnceLock::new();
        scope_keys(scope)
            .map(|(f, v)| {
                self.by_scope
                    .get(&(f, v.clone()))
                    .unwrap_or_else(|| EMPTY.get_or_init(FastSet::default))
            })
            .min_by_key(|set| set.len())
    }

    /// How many of its memories have an indexed vector.
    pub(crate) fn vector_count(&self) -> usize {
        self.by_vec.len()
    }

    /// A live entry whose scope is exactly `scope` and whose content hash is `hash`.
    pub(crate) fn find_duplicate(
        &self,
        scope: &Scope,
        hash: &str,
        now: Timestamp,
    ) -> Option<&Entry> {
        self.by_hash
            .get(hash)?
            .iter()
            .filter_map(|id| self.live(*id, now))
            .find(|e| e.memory.scope == *scope)
    }

    /// Live entries newest first, starting after `cursor`.
    pub(crate) fn newest_first(
        &self,
        cursor: Option<Cursor>,
        now: Timestamp,
    ) -> impl Iterator<Item = &Entry> + '_ {
        let upper = match cursor {
            Some(c) => Bound::Excluded((c.created_at, c.id)),
            None => Bound::Unbounded,
        };
        self.order
            .range((Bound::Unbounded, upper))
            .rev()
            .filter_map(move |(_, id)| self.live(*id, now))
    }

    /// Every entry, live or expired.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.by_id.values()
    }

    /// Stores `e`, replacing any entry with its id; returns the replaced one.
    pub(crate) fn insert(&mut self, e: Entry) -> Option<Entry> {
        let old = self.remove(e.memory.id);
        let m = &e.memory;
        self.order.insert((m.created_at, m.id));
        self.by_hash
            .entry(m.content_hash.clone())
            .or_default()
            .insert(m.id);
        if let Some(v) = e.vec {
            let info = VecInfo {
                id: m.id,
                index: v.index,
                expires_at: m.expires_at,
            };
            self.by_vec.insert(v.id, info);
            for (f, value) in scope_keys(&m.scope) {
                self.by_scope
                    .entry((f, value.clone()))
                    .or_default()
                    .insert(v.id);
            }
        }
        self.by_id.insert(m.id, e);
        old
    }

    /// Removes the entry with `id` (live or expired) and returns it.
    pub(crate) fn remove(&mut self, id: MemoryId) -> Option<Entry> {
        let e = self.by_id.remove(&id)?;
        let m = &e.memory;
        self.order.remove(&(m.created_at, m.id));
        if let Some(ids) = self.by_hash.get_mut(&m.content_hash) {
            ids.remove(&m.id);
            if ids.is_empty() {
                self.by_hash.remove(&m.content_hash);
            }
        }
        if let Some(v) = e.vec {
            self.by_vec.remove(&v.id);
            for (f, value) in scope_keys(&m.scope) {
                let key = (f, value.clone());
                if let Some(set) = self.by_scope.get_mut(&key) {
                    set.remove(&v.id);
                    if set.is_empty() {
                        self.by_scope.remove(&key);
                    }
                }
            }
        }
        Some(e)
    }
}

/// Every tenant's memories.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) tenants: HashMap<String, Tenant>,
}

impl State {
    /// Stores `e` in its tenant; returns the entry it replaced.
    pub(crate) fn insert(&mut self, e: Entry) -> Option<Entry> {
        self.tenants
            .entry(e.memory.scope.tenant.clone())
            .or_default()
            .insert(e)
    }

    /// Removes the entry `id` of `tenant`, dropping the tenant when it empties.
    pub(crate) fn remove(&mut self, tenant: &str, id: MemoryId) -> Option<Entry> {
        let t = self.tenants.get_mut(tenant)?;
        let e = t.remove(id);
        if t.is_empty() {
            self.tenants.remove(tenant);
        }
        e
    }
}
