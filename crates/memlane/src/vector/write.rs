//! Writes: each one plans against RAM, commits one transaction to the payload database (the durable point), then
//! brings RAM and the vector indexes in step. The writer mutex serializes them.

use std::collections::BTreeMap;

use memlane_core::{
    content_hash, Added, Embedding, Error, Memory, MemoryId, NewMemory, Result, Scope, Timestamp,
    Update,
};
use rusqlite::Connection;

use super::error::{db, poisoned, NAME};
use super::payload;
use super::state::{Entry, Tenant, VecRef};
use super::Inner;

/// The writer's connection and the next vector id (ids are never reused within a run; at open the counter starts
/// past every id in the payload and the indexes).
#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) last_vec: u64,
}

/// Whether a vector has a direction the index can normalize (the index's own test).
pub(crate) fn indexable(v: &[f32]) -> bool {
    let norm: f64 = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum();
    norm > f64::from(f32::MIN_POSITIVE) && norm.is_finite()
}

/// What RAM keeps of a memory: the same, with the embedding's vector left out.
fn stripped(m: &Memory) -> Memory {
    let mut s = m.clone();
    if let Some(e) = &m.embedding {
        s.embedding = Some(payload::strip(e));
    }
    s
}

impl Writer {
    /// Where a new vector goes: the index of its model and dimension (created if needed) and a fresh id; none
    /// without an embedding or for a vector without direction.
    fn assign(&mut self, inner: &Inner, e: Option<&Embedding>) -> Result<Option<VecRef>> {
        let Some(e) = e.filter(|e| indexable(&e.vector)) else {
            return Ok(None);
        };
        let slot = inner.indexes.ensure(&self.conn, &e.model, e.dim())?;
        self.last_vec += 1;
        Ok(Some(VecRef {
            index: slot.no,
            id: self.last_vec,
        }))
    }

    /// `m` with its vector read back from the payload (RAM holds memories without it).
    fn filled(&self, mut m: Memory) -> Result<Memory> {
        if let Some(e) = m.embedding.as_mut() {
            e.vector = payload::vector(&self.conn, &m.scope.tenant, m.id)?.unwrap_or_default();
        }
        Ok(m)
    }
}

/// Inserts and removes vectors after a commit. An index failure here leaves the payload ahead of the index: the
/// write is durable, and the next open repairs the index from the payload; the caller is told.
fn apply(inner: &Inner, inserts: &[(VecRef, &[f32])], removes: &[VecRef]) -> Result<()> {
    let mut by_index: BTreeMap<u32, (Vec<u64>, Vec<f32>)> = BTreeMap::new();
    for (r, v) in inserts {
        let (ids, rows) = by_index.entry(r.index).or_default();
        ids.push(r.id);
        rows.extend_from_slice(v);
    }
    let fail = |e: memlane_vector::Error| {
        Error::internal(
            NAME,
            format!(
                "the write is stored, but updating the vector index failed (it is repaired at the next open): {e}"
            ),
            Some(Box::new(e)),
        )
    };
    for (no, (ids, rows)) in by_index {
        if let Some(index) = inner.indexes.get(no)? {
            index.insert_batch(&ids, &rows).map_err(fail)?;
        }
    }
    for r in removes {
        if let Some(index) = inner.indexes.get(r.index)? {
            index.remove(r.id).map_err(fail)?;
        }
    }
    Ok(())
}

/// What memory `i` of a batch comes to, decided before anything is written: an existing memory to return (same
/// id and content, or a duplicate), `None` to create it, or a conflict.
fn plan_one(
    i: usize,
    tenant: Option<&Tenant>,
    planned: &[Memory],
    new: &NewMemory,
    dedup: bool,
    now: Timestamp,
) -> Result<Option<Memory>> {
    if let Some(id) = new.id {
        let existing = planned
            .iter()
            .rev()
            .find(|m| m.id == id && m.scope.tenant == new.scope.tenant)
            .or_else(|| tenant.and_then(|t| t.live(id, now)).map(|e| &e.memory));
        if let Some(e) = existing {
            if e.content == new.content && e.scope == new.scope {
                return Ok(Some(e.clone()));
            }
            return Err(Error::conflict(
                NAME,
                format!("memories[{i}]: memory {id} exists with other content or scope"),
            ));
        }
    }
    if dedup {
        let hash = content_hash(&new.content);
        let dup = planned
            .iter()
            .find(|m| m.scope == new.scope && m.content_hash == hash && !m.is_expired(now))
            .or_else(|| {
                tenant
                    .and_then(|t| t.find_duplicate(&new.scope, &hash, now))
                    .map(|e| &e.memory)
            });
        if let Some(d) = dup {
            return Ok(Some(d.clone()));
        }
    }
    Ok(None)
}

/// Adds a checked batch, all or nothing.
pub(crate) fn add(
    inner: &Inner,
    w: &mut Writer,
    batch: Vec<NewMemory>,
    dedup: bool,
    now: Timestamp,
) -> Result<Vec<Added>> {
    // Decide every memory first (conflicts fail the whole batch), then write.
    let mut planned: Vec<Memory> = Vec::new();
    let mut out = Vec::with_capacity(batch.len());
    {
        let state = inner.state.read().map_err(|_| poisoned())?;
        for (i, new) in batch.into_iter().enumerate() {
            let tenant = state.tenants.get(&new.scope.tenant);
            match plan_one(i, tenant, &planned, &new, dedup, now)? {
                Some(existing) => out.push((existing, false)),
                None => {
                    let m = new.into_memory(now);
                    planned.push(m.clone());
                    out.push((m, true));
                }
            }
        }
    }
    let mut refs = Vec::with_capacity(planned.len());
    for m in &planned {
        refs.push(w.assign(inner, m.embedding.as_ref())?);
    }
    if !planned.is_empty() {
        let tx = w.conn.transaction().map_err(db)?;
        for (m, r) in planned.iter().zip(&refs) {
            payload::put(&tx, m, *r)?;
        }
        tx.commit().map_err(db)?;
    }
    let mut removes = Vec::new();
    {
        let mut state = inner.state.write().map_err(|_| poisoned())?;
        for (m, r) in planned.iter().zip(&refs) {
            let old = state.insert(Entry {
                memory: stripped(m),
                vec: *r,
            });
            // An expired memory with the same id was replaced.
            removes.extend(old.and_then(|o| o.vec));
        }
    }
    let inserts: Vec<(VecRef, &[f32])> = planned
        .iter()
        .zip(&refs)
        .filter_map(|(m, r)| Some((*r)?).zip(m.embedding.as_ref().map(|e| &e.vector[..])))
        .collect();
    apply(inner, &inserts, &removes)?;
    out.into_iter()
        .map(|(m, created)| {
            let memory = if created { m } else { w.filled(m)? };
            Ok(Added { memory, created })
        })
        .collect()
}

/// Applies a checked update.
pub(crate) fn update(
    inner: &Inner,
    w: &mut Writer,
    tenant: &str,
    id: MemoryId,
    update: Update,
    now: Timestamp,
) -> Result<Memory> {
    let not_found = || Error::not_found(NAME, format!("memory {id}"));
    let entry = {
        let state = inner.state.read().map_err(|_| poisoned())?;
        state
            .tenants
            .get(tenant)
            .and_then(|t| t.live(id, now))
            .cloned()
            .ok_or_else(not_found)?
    };
    if let Some(expected) = update.expected_version {
        if expected != entry.memory.version {
            return Err(Error::version_mismatch(
                NAME,
                expected,
                entry.memory.version,
            ));
        }
    }
    let current = w.filled(entry.memory)?;
    let next = update.apply(&current, now);
    let vec = if next.embedding == current.embedding {
        entry.vec
    } else {
        w.assign(inner, next.embedding.as_ref())?
    };
    let tx = w.conn.transaction().map_err(db)?;
    payload::put(&tx, &next, vec)?;
    tx.commit().map_err(db)?;
    inner.state.write().map_err(|_| poisoned())?.insert(Entry {
        memory: stripped(&next),
        vec,
    });
    if vec != entry.vec {
        let inserts: Vec<(VecRef, &[f32])> = vec
            .zip(next.embedding.as_ref().map(|e| &e.vector[..]))
            .into_iter()
            .collect();
        let removes: Vec<VecRef> = entry.vec.into_iter().collect();
        apply(inner, &inserts, &removes)?;
    }
    Ok(next)
}

/// Deletes `ids` of `tenant` (live or expired) in one transaction; returns how many were there.
fn remove_many(inner: &Inner, w: &mut Writer, tenant: &str, ids: &[MemoryId]) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let tx = w.conn.transaction().map_err(db)?;
    for id in ids {
        payload::remove(&tx, tenant, *id)?;
    }
    tx.commit().map_err(db)?;
    let mut removes = Vec::new();
    let mut n = 0;
    {
        let mut state = inner.state.write().map_err(|_| poisoned())?;
        for id in ids {
            if let Some(e) = state.remove(tenant, *id) {
                n += 1;
                removes.extend(e.vec);
            }
        }
    }
    apply(inner, &[], &removes)?;
    Ok(n)
}

/// Deletes one memory; not found when it is absent or expired (an expired one is deleted all the same).
pub(crate) fn delete(
    inner: &Inner,
    w: &mut Writer,
    tenant: &str,
    id: MemoryId,
    now: Timestamp,
) -> Result<()> {
    let live = {
        let state = inner.state.read().map_err(|_| poisoned())?;
        match state.tenants.get(tenant).and_then(|t| t.entry(id)) {
            None => return Err(Error::not_found(NAME, format!("memory {id}"))),
            Some(e) => !e.memory.is_expired(now),
        }
    };
    remove_many(inner, w, tenant, &[id])?;
    if live {
        Ok(())
    } else {
        Err(Error::not_found(NAME, format!("memory {id}")))
    }
}

/// Deletes every memory in `scope`; returns how many of them were live.
pub(crate) fn forget(inner: &Inner, w: &mut Writer, scope: &Scope, now: Timestamp) -> Result<u64> {
    let (ids, live) = {
        let state = inner.state.read().map_err(|_| poisoned())?;
        let Some(t) = state.tenants.get(&scope.tenant) else {
            return Ok(0);
        };
        let mut live = 0u64;
        let ids: Vec<MemoryId> = t
            .all()
            .filter(|e| scope.matches(&e.memory.scope))
            .inspect(|e| live += u64::from(!e.memory.is_expired(now)))
            .map(|e| e.memory.id)
            .collect();
        (ids, live)
    };
    remove_many(inner, w, &scope.tenant, &ids)?;
    Ok(live)
}

/// Deletes every memory expired at `now`; returns how many.
pub(crate) fn purge(inner: &Inner, w: &mut Writer, now: Timestamp) -> Result<u64> {
    let doomed: Vec<(String, Vec<MemoryId>)> = {
        let state = inner.state.read().map_err(|_| poisoned())?;
        state
            .tenants
            .iter()
            .map(|(name, t)| {
                let ids = t
                    .all()
                    .filter(|e| e.memory.is_expired(now))
                    .map(|e| e.memory.id)
                    .collect::<Vec<_>>();
                (name.clone(), ids)
            })
            .filter(|(_, ids)| !ids.is_empty())
            .collect()
    };
    let mut n = 0;
    for (tenant, ids) in doomed {
        n += remove_many(inner, w, &tenant, &ids)?;
    }
    Ok(n)
}

/// Opens the index repair's counterpart for RAM: the entries loaded from the payload, by tenant.
pub(crate) fn load_state(entries: Vec<Entry>) -> super::state::State {
    let mut state = super::state::State::default();
    for e in entries {
        state.insert(e);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::indexable;

    #[test]
    fn zero_and_tiny_vectors_are_not_indexable() {
        assert!(indexable(&[0.0, 1.0]));
        assert!(!indexable(&[0.0, 0.0]));
        assert!(!indexable(&[1e-30, 0.0]));
    }
}
