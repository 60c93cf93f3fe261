//! The bulk path of `add`: a large batch without deduplication (an import or a migration) in a handful of
//! statements instead of two round trips per memory.
//!
//! Same semantics as the row-by-row path in `write.rs`, in one transaction. Every memory is inserted with
//! multi-row `INSERT ... VALUES` statements (bound binary parameters, up to [`ROWS_PER_INSERT`] rows each)
//! `ON CONFLICT DO NOTHING RETURNING`; only the ids that were already there are then read `FOR UPDATE` (one index
//! scan per tenant): a live row with the same content and scope is returned as existing (`created: false`), with
//! other content or scope the whole batch is a conflict (rolled back: nothing is stored), an expired row is deleted
//! and replaced. A row that vanished in between (a concurrent delete) rolls the batch back to the row path, which
//! resolves such races one memory at a time. With the outbox on, the created memories are appended to it in the
//! same transaction, as the row path does.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::{Client, Transaction};
use memlane_core::{Added, Change, Error, Memory, MemoryId, NewMemory, Result, Timestamp};
use tokio_postgres::types::ToSql;

use super::error::{map, NAME};
use super::outbox;
use super::rows::{from_row, Values, COLUMNS, INSERT_COLUMNS};

/// Rows per `INSERT` statement: 15 parameters each, well under PostgreSQL's 65,535 per statement.
pub(crate) const ROWS_PER_INSERT: usize = 1000;

/// The smallest batch worth the bulk path.
const MIN_BATCH: usize = 16;

/// What the bulk path did.
pub(crate) enum Bulk {
    /// Stored, with what `add` returns.
    Done(Vec<Added>),
    /// Not for the bulk path (small, deduplicated, repeated ids, or a concurrent insert): use the row path.
    Fallback(Vec<NewMemory>),
}

/// Whether a batch can take the bulk path: large enough, no deduplication, no id twice.
fn eligible(batch: &[NewMemory], dedup: bool) -> bool {
    if dedup || batch.len() < MIN_BATCH {
        return false;
    }
    let mut seen = HashSet::with_capacity(batch.len());
    batch
        .iter()
        .filter_map(|m| m.id.map(|id| (m.scope.tenant.as_str(), id)))
        .all(|k| seen.insert(k))
}

/// Adds a validated batch by the bulk path, or hands it back for the row path.
pub(crate) async fn add(
    client: &mut Client,
    batch: Vec<NewMemory>,
    dedup: bool,
    now: Timestamp,
    ts_config: &String,
    log: bool,
) -> Result<Bulk> {
    if !eligible(&batch, dedup) {
        return Ok(Bulk::Fallback(batch));
    }
    let items: Vec<(bool, Memory)> = batch
        .into_iter()
        .map(|n| (n.id.is_some(), n.into_memory(now)))
        .collect();
    let values = items
        .iter()
        .map(|(_, m)| Values::of(m))
        .collect::<Result<Vec<_>>>()?;
    let tx = client.transaction().await.map_err(map)?;
    // Insert everything; the ids that were already there are looked at afterwards (none in a fresh migration).
    let all: Vec<usize> = (0..items.len()).collect();
    let mut inserted = HashSet::with_capacity(items.len());
    for chunk in all.chunks(ROWS_PER_INSERT) {
        inserted.extend(insert(&tx, chunk, &items, &values, ts_config).await?);
    }
    let mut out: Vec<Option<Added>> = vec![None; items.len()];
    let taken: Vec<usize> = all
        .into_iter()
        .filter(|&i| !inserted.contains(&(items[i].1.scope.tenant.clone(), items[i].1.id)))
        .collect();
    if !taken.is_empty() {
        let found = existing(&tx, taken.iter().map(|&i| &items[i].1)).await?;
        let mut expired = Vec::new();
        for &i in &taken {
            let m = &items[i].1;
            match found.get(&(m.scope.tenant.clone(), m.id)) {
                Some(old) if !old.is_expired(now) => {
                    if old.content_hash != m.content_hash || old.scope != m.scope {
                        return Err(Error::conflict(
                            NAME,
                            format!("memory {} exists with other content or scope", m.id),
                        ));
                    }
                    out[i] = Some(Added {
                        memory: old.clone(),
                        created: false,
                    });
                }
                Some(_) => expired.push(i),
                // Deleted by someone else since the insert saw it: let the row path sort it out.
                None => return Ok(fallback(tx, items)),
            }
        }
        if !expired.is_empty() {
            let keys: Vec<(String, MemoryId)> = expired
                .iter()
                .map(|&i| (items[i].1.scope.tenant.clone(), items[i].1.id))
                .collect();
            delete(&tx, &keys).await?;
            for chunk in expired.chunks(ROWS_PER_INSERT) {
                let n = insert(&tx, chunk, &items, &values, ts_config).await?.len();
                if n != chunk.len() {
                    return Ok(fallback(tx, items));
                }
            }
        }
    }
    let mut result = Vec::with_capacity(items.len());
    for ((_, m), done) in items.into_iter().zip(out) {
        result.push(done.unwrap_or(Added {
            memory: m,
            created: true,
        }));
    }
    if log {
        let changes: Vec<Change> = result
            .iter()
            .filter(|a| a.created)
            .map(|a| Change::Upsert {
                memory: a.memory.clone(),
            })
            .collect();
        outbox::append(&tx, &changes).await?;
    }
    tx.commit().await.map_err(map)?;
    Ok(Bulk::Done(result))
}

/// The ids of `keys`, grouped by tenant (a batch usually has one): each group is one index scan on the primary key.
fn by_tenant<'a>(
    keys: impl Iterator<Item = (&'a str, MemoryId)>,
) -> HashMap<&'a str, Vec<MemoryId>> {
    let mut groups: HashMap<&str, Vec<MemoryId>> = HashMap::new();
    for (t, id) in keys {
        groups.entry(t).or_default().push(id);
    }
    groups
}

/// The stored rows (live or expired) of these memories' ids, locked.
async fn existing<'a>(
    tx: &Transaction<'_>,
    memories: impl Iterator<Item = &'a Memory>,
) -> Result<HashMap<(String, MemoryId), Memory>> {
    let groups = by_tenant(memories.map(|m| (m.scope.tenant.as_str(), m.id)));
    let mut out = HashMap::new();
    let sql = format!(
        "SELECT {COLUMNS} FROM memlane_memories m WHERE m.tenant = $1 AND m.id = ANY($2) FOR UPDATE"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(map)?;
    for (tenant, ids) in groups {
        for r in tx.query(&stmt, &[&tenant, &ids]).await.map_err(map)? {
            let m = from_row(&r)?;
            out.insert((m.scope.tenant.clone(), m.id), m);
        }
    }
    Ok(out)
}

/// Rolls back and hands the batch to the row path (ids, times and versions now fixed: re-adding is equivalent).
fn fallback(tx: Transaction<'_>, items: Vec<(bool, Memory)>) -> Bulk {
    drop(tx);
    Bulk::Fallback(
        items
            .into_iter()
            .map(|(_, m)| NewMemory::restore(m))
            .collect(),
    )
}

/// Deletes expired rows that the batch replaces.
async fn delete(tx: &Transaction<'_>, keys: &[(String, MemoryId)]) -> Result<()> {
    for (tenant, ids) in by_tenant(keys.iter().map(|(t, id)| (t.as_str(), *id))) {
        tx.execute(
            "DELETE FROM memlane_memories WHERE tenant = $1 AND id = ANY($2)",
            &[&tenant, &ids],
        )
        .await
        .map_err(map)?;
    }
    Ok(())
}

/// Inserts the rows `which` of `items` in one statement; returns the (tenant, id) of those inserted.
async fn insert(
    tx: &Transaction<'_>,
    which: &[usize],
    items: &[(bool, Memory)],
    values: &[Values],
    ts_config: &String,
) -> Result<Vec<(String, MemoryId)>> {
    let stmt = tx
        .prepare_cached(&insert_sql(which.len()))
        .await
        .map_err(map)?;
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(1 + which.len() * 15);
    params.push(ts_config);
    for &i in which {
        let p = values[i].params(&items[i].1, ts_config);
        params.extend_from_slice(&p[..15]);
    }
    let rows = tx.query(&stmt, &params).await.map_err(map)?;
    rows.iter()
        .map(|r| Ok((r.try_get(0).map_err(map)?, r.try_get(1).map_err(map)?)))
        .collect()
}

/// `INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING` for `rows` rows; `$1` is the text search configuration.
fn insert_sql(rows: usize) -> String {
    let mut sql = format!("INSERT INTO memlane_memories ({INSERT_COLUMNS}) VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..15 {
            sql.push_str(&format!("${},", 2 + r * 15 + c));
        }
        sql.push_str("$1::text::regconfig)");
    }
    sql.push_str(" ON CONFLICT (tenant, id) DO NOTHING RETURNING tenant, id");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use memlane_core::Scope;

    #[test]
    fn only_large_undeduplicated_batches_without_repeated_ids_qualify() {
        let m = |i: usize| NewMemory::new(Scope::tenant("t"), format!("m{i}"));
        let batch: Vec<NewMemory> = (0..MIN_BATCH).map(m).collect();
        assert!(eligible(&batch, false));
        assert!(!eligible(&batch, true));
        assert!(!eligible(&batch[1..], false));
        let id = memlane_core::new_id();
        let mut twice = batch.clone();
        twice[0].id = Some(id);
        twice[1].id = Some(id);
        assert!(!eligible(&twice, false));
    }

    #[test]
    fn the_insert_numbers_parameters_after_the_shared_config() {
        let sql = insert_sql(2);
        assert!(sql
            .contains("($2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$1::text::regconfig)"));
        assert!(sql.contains(",($17,"));
        assert!(sql.contains("$31,$1::text::regconfig)"));
        assert!(sql.ends_with("ON CONFLICT (tenant, id) DO NOTHING RETURNING tenant, id"));
    }
}
