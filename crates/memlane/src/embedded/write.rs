//! Writes: each one SQLite transaction on the single writer connection, so a batch is all or nothing and
//! version checks are atomic.

use std::collections::HashMap;
use std::sync::LazyLock;

use memlane_core::{Added, Error, Memory, MemoryId, NewMemory, Result, Scope, Timestamp, Update};
use rusqlite::types::Value;
use rusqlite::{
    params, params_from_iter, Connection, OptionalExtension, Transaction, TransactionBehavior,
};

use super::dedup::{self, Hashes};
use super::error::{map, NAME};
use super::read::query;
use super::rows::{to_values, COLUMNS, INSERT_COLUMNS};
use super::text::{Pending, Terms, TextIndex};
use super::vectors::{self, Vectors};

/// What lives in RAM beside the database, kept in step by the writer after each commit.
pub(crate) struct Ram<'a> {
    pub(crate) vectors: &'a Vectors,
    pub(crate) text: &'a TextIndex,
    pub(crate) hashes: &'a Hashes,
}

impl Ram<'_> {
    /// After a commit deleted rows.
    fn forget(&self, rowids: &[i64]) {
        self.vectors.remove(rowids);
        self.hashes.apply(rowids, []);
        self.text.remove(rowids);
    }
}

fn begin(conn: &mut Connection) -> Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map)
}

/// The stored row of `(tenant, id)`, expired or not, with its rowid.
fn find(tx: &Connection, tenant: &str, id: MemoryId) -> Result<Option<(Memory, i64)>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!("SELECT {COLUMNS} FROM memories m WHERE m.tenant = ?1 AND m.id = ?2")
    });
    let mut rows = query(
        tx,
        &SQL,
        vec![Value::Text(tenant.into()), Value::Text(id.to_string())],
        |row, m| Ok((m, row.get::<_, i64>(15)?)),
    )?;
    Ok(rows.pop())
}

/// The earliest created live memory with `m`'s content in exactly its scope, among the stored rows the digest map
/// names (checked here) and the memories stored earlier in the same batch (`batch`: indexes into `out`).
fn find_duplicate(
    tx: &Connection,
    ram: &Ram<'_>,
    m: &Memory,
    now: Timestamp,
    out: &[Added],
    batch: &[usize],
) -> Result<Option<Memory>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {COLUMNS} FROM memories m WHERE m.rowid = ?1 AND m.tenant = ?2 AND m.user_id IS ?3 \
             AND m.agent_id IS ?4 AND m.session_id IS ?5 AND m.content_hash = ?6 \
             AND (m.expires_ms IS NULL OR m.expires_ms > ?7)"
        )
    });
    let opt = |s: &Option<String>| s.clone().map(Value::Text).unwrap_or(Value::Null);
    let mut best: Option<Memory> = None;
    let mut consider = |c: Memory| {
        if best.as_ref().is_none_or(|b| c.created_at < b.created_at) {
            best = Some(c);
        }
    };
    for rowid in ram.hashes.candidates(&m.scope, &m.content_hash) {
        let params = vec![
            Value::Integer(rowid),
            Value::Text(m.scope.tenant.clone()),
            opt(&m.scope.user),
            opt(&m.scope.agent),
            opt(&m.scope.session),
            Value::Text(m.content_hash.clone()),
            Value::Integer(now.as_millis()),
        ];
        if let Some(found) = query(tx, &SQL, params, |_, m| Ok(m))?.pop() {
            consider(found);
        }
    }
    for &i in batch {
        let c = &out[i].memory;
        if c.content_hash == m.content_hash && c.scope == m.scope && !c.is_expired(now) {
            consider(c.clone());
        }
    }
    Ok(best)
}

fn insert(tx: &Connection, m: &Memory) -> Result<i64> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let marks: Vec<String> = (1..=15).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO memories ({INSERT_COLUMNS}) VALUES ({})",
            marks.join(", ")
        )
    });
    tx.prepare_cached(&SQL)
        .and_then(|mut s| s.execute(params_from_iter(to_values(m))))
        .map_err(map)?;
    Ok(tx.last_insert_rowid())
}

/// Adds a validated batch in one transaction.
pub(crate) fn add(
    conn: &mut Connection,
    ram: &Ram<'_>,
    batch: Vec<NewMemory>,
    dedup: bool,
    now: Timestamp,
    pending: Option<Pending>,
) -> Result<Vec<Added>> {
    let tx = begin(conn)?;
    if dedup {
        ram.hashes.sync(&tx)?;
    }
    let mut out = Vec::with_capacity(batch.len());
    let (mut gone, mut stored) = (Vec::new(), Vec::new());
    // The memories this batch stores, by dedup digest: indexes into `out`.
    let mut added: HashMap<u64, Vec<usize>> = HashMap::new();
    for new in batch {
        // An id generated here (UUIDv7) is new: only a caller's id can name a stored memory.
        let given = new.id.is_some();
        let m = new.into_memory(now);
        let stored_before = if given {
            find(&tx, &m.scope.tenant, m.id)?
        } else {
            None
        };
        if let Some((old, rowid)) = stored_before {
            if !old.is_expired(now) {
                if old.content_hash == m.content_hash && old.scope == m.scope {
                    out.push(Added {
                        memory: old,
                        created: false,
                    });
                    continue;
                }
                return Err(Error::conflict(
                    NAME,
                    format!("memory {} exists with other content or scope", m.id),
                ));
            }
            tx.execute("DELETE FROM memories WHERE rowid = ?1", params![rowid])
                .map_err(map)?;
            gone.push(rowid);
        }
        let d = dedup::digest(&m.scope, &m.content_hash);
        if dedup {
            let same = added.get(&d).map(Vec::as_slice).unwrap_or_default();
            if let Some(existing) = find_duplicate(&tx, ram, &m, now, &out, same)? {
                out.push(Added {
                    memory: existing,
                    created: false,
                });
                continue;
            }
        }
        let rowid = insert(&tx, &m)?;
        added.entry(d).or_default().push(out.len());
        stored.push((rowid, out.len()));
        out.push(Added {
            memory: m,
            created: true,
        });
    }
    tx.commit().map_err(map)?;
    ram.vectors.remove(&gone);
    for (rowid, i) in &stored {
        if let Some(e) = vectors::of(&out[*i].memory) {
            ram.vectors.set(*rowid, Some(e));
        }
    }
    ram.hashes.apply(
        &gone,
        stored.iter().map(|(r, i)| {
            let m = &out[*i].memory;
            (*r, &m.scope, m.content_hash.as_str())
        }),
    );
    // `out` has one entry per batch item, so `i` is also the item's place in the batch.
    let mut terms = pending.and_then(Pending::wait).unwrap_or_default();
    let texts: Vec<(i64, &Memory, Terms)> = stored
        .iter()
        .map(|(r, i)| {
            let m = &out[*i].memory;
            let t = terms
                .get_mut(*i)
                .map(std::mem::take)
                .unwrap_or_else(|| Terms::of(&m.content));
            (*r, m, t)
        })
        .collect();
    ram.text.apply_terms(&gone, texts);
    Ok(out)
}

/// Applies a validated update, checking the version inside the transaction.
pub(crate) fn update(
    conn: &mut Connection,
    ram: &Ram<'_>,
    tenant: &str,
    id: MemoryId,
    u: &Update,
    now: Timestamp,
) -> Result<Memory> {
    let tx = begin(conn)?;
    let (old, rowid) = find(&tx, tenant, id)?
        .filter(|(m, _)| !m.is_expired(now))
        .ok_or_else(|| Error::not_found(NAME, format!("memory {id}")))?;
    if let Some(v) = u.expected_version {
        if v != old.version {
            return Err(Error::version_mismatch(NAME, v, old.version));
        }
    }
    let next = u.apply(&old, now);
    let mut values = to_values(&next);
    values.push(Value::Integer(rowid));
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let sets: Vec<String> = INSERT_COLUMNS
            .split(", ")
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 1))
            .collect();
        format!("UPDATE memories SET {} WHERE rowid = ?16", sets.join(", "))
    });
    tx.prepare_cached(&SQL)
        .and_then(|mut s| s.execute(params_from_iter(values)))
        .map_err(map)?;
    tx.commit().map_err(map)?;
    ram.vectors.set(rowid, vectors::of(&next));
    ram.hashes
        .apply(&[], [(rowid, &next.scope, next.content_hash.as_str())]);
    ram.text.apply(&[], &[(rowid, &next)]);
    Ok(next)
}

/// Deletes one memory; not found when absent or expired (an expired one is deleted all the same).
pub(crate) fn delete(
    conn: &mut Connection,
    ram: &Ram<'_>,
    tenant: &str,
    id: MemoryId,
    now: Timestamp,
) -> Result<()> {
    let deleted: Option<(i64, Option<i64>)> = conn
        .query_row(
            "DELETE FROM memories WHERE tenant = ?1 AND id = ?2 RETURNING rowid, expires_ms",
            params![tenant, id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(map)?;
    if let Some((rowid, _)) = deleted {
        ram.forget(&[rowid]);
    }
    match deleted.map(|(_, e)| e) {
        Some(e) if e.is_none_or(|e| e > now.as_millis()) => Ok(()),
        _ => Err(Error::not_found(NAME, format!("memory {id}"))),
    }
}

/// Deletes every memory of a scope.
pub(crate) fn forget(conn: &mut Connection, ram: &Ram<'_>, scope: &Scope) -> Result<u64> {
    let mut w = super::sql::Where::default();
    w.scope(scope);
    let sql = format!("DELETE FROM memories AS m WHERE {} RETURNING rowid", w.sql);
    let rowids = deleted_rowids(conn, &sql, w.params)?;
    ram.forget(&rowids);
    Ok(rowids.len() as u64)
}

fn deleted_rowids(conn: &Connection, sql: &str, params: Vec<Value>) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(sql).map_err(map)?;
    let rows = stmt
        .query_map(params_from_iter(params), |r| r.get::<_, i64>(0))
        .map_err(map)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map)
}

/// Deletes up to `batch` expired memories; returns how many.
pub(crate) fn purge(
    conn: &mut Connection,
    ram: &Ram<'_>,
    now: Timestamp,
    batch: u32,
) -> Result<u64> {
    let rowids = deleted_rowids(
        conn,
        "DELETE FROM memories WHERE rowid IN \
         (SELECT rowid FROM memories WHERE expires_ms IS NOT NULL AND expires_ms <= ?1 LIMIT ?2) RETURNING rowid",
        vec![Value::Integer(now.as_millis()), Value::Integer(i64::from(batch))],
    )?;
    ram.forget(&rowids);
    Ok(rowids.len() as u64)
}
