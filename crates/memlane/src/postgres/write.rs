//! Writes: each one transaction, so a batch is all or nothing and version checks are atomic.
//!
//! - Idempotent add by id: the stored row is read `FOR UPDATE`; the insert is `ON CONFLICT (tenant, id) DO
//!   NOTHING`, so two concurrent adds of one id never fail with a unique violation: the second finds the first.
//! - Deduplication: the batch first takes a transaction-level advisory lock per (scope, content hash), in a fixed
//!   order, so concurrent adds of the same content in the same scope run one after the other and the later finds
//!   the earlier; adds of different content never wait for each other.
//! - Updates read the row `FOR UPDATE`, check the expected version and write the new state in the same
//!   transaction: of several concurrent updates of one version, exactly one wins.
//! - With the outbox on (`outbox=true`), each write appends its changes to the outbox in the same transaction,
//!   last, right before committing (see `outbox.rs`).

use deadpool_postgres::{Client, Transaction};
use memlane_core::{
    content_hash, Added, Change, Error, Memory, MemoryId, NewMemory, Result, Scope, Timestamp,
    Update,
};

use super::error::{map, NAME};
use super::outbox;
use super::rows::{from_row, Values, COLUMNS, INSERT_COLUMNS, INSERT_VALUES};
use super::sql::{Param, Where};

/// The stored row of `(tenant, id)`, expired or not, locked for the rest of the transaction.
async fn find(tx: &Transaction<'_>, tenant: &str, id: MemoryId) -> Result<Option<Memory>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM memlane_memories m WHERE m.tenant = $1 AND m.id = $2 FOR UPDATE"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(map)?;
    let row = tx.query_opt(&stmt, &[&tenant, &id]).await.map_err(map)?;
    row.as_ref().map(from_row).transpose()
}

/// The oldest live memory with `m`'s content in exactly `m`'s scope.
async fn find_duplicate(
    tx: &Transaction<'_>,
    m: &Memory,
    now: Timestamp,
) -> Result<Option<Memory>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM memlane_memories m WHERE m.tenant = $1 AND m.content_hash = $2 \
         AND m.user_id IS NOT DISTINCT FROM $3 AND m.agent_id IS NOT DISTINCT FROM $4 \
         AND m.session_id IS NOT DISTINCT FROM $5 AND (m.expires_ms IS NULL OR m.expires_ms > $6) \
         ORDER BY m.created_ms, m.id LIMIT 1"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(map)?;
    let s = &m.scope;
    let row = tx
        .query_opt(
            &stmt,
            &[
                &s.tenant,
                &m.content_hash,
                &s.user,
                &s.agent,
                &s.session,
                &now.as_millis(),
            ],
        )
        .await
        .map_err(map)?;
    row.as_ref().map(from_row).transpose()
}

/// The advisory lock key of a memory's (scope, content): 64 bits of a sha256 (names hold no control characters,
/// so the separators are unambiguous).
fn dedup_key(m: &Memory) -> i64 {
    let s = &m.scope;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "\u{2}".into());
    let key = format!(
        "memlane-dedup\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}",
        s.tenant,
        opt(&s.user),
        opt(&s.agent),
        opt(&s.session),
        m.content_hash
    );
    let hex = content_hash(&key);
    u64::from_str_radix(&hex[..16], 16).unwrap_or(0) as i64
}

fn same(old: &Memory, new: &Memory) -> bool {
    old.content_hash == new.content_hash && old.scope == new.scope
}

fn id_conflict(id: MemoryId) -> Error {
    Error::conflict(
        NAME,
        format!("memory {id} exists with other content or scope"),
    )
}

/// Adds a validated batch in one transaction.
pub(crate) async fn add(
    client: &mut Client,
    batch: Vec<NewMemory>,
    dedup: bool,
    now: Timestamp,
    ts_config: &String,
    log: bool,
) -> Result<Vec<Added>> {
    let items: Vec<(bool, Memory)> = batch
        .into_iter()
        .map(|n| (n.id.is_some(), n.into_memory(now)))
        .collect();
    let values = items
        .iter()
        .map(|(_, m)| Values::of(m))
        .collect::<Result<Vec<_>>>()?;
    let insert = format!(
        "INSERT INTO memlane_memories ({INSERT_COLUMNS}) VALUES ({INSERT_VALUES}) ON CONFLICT (tenant, id) DO NOTHING"
    );
    let tx = client.transaction().await.map_err(map)?;
    if dedup {
        let mut keys: Vec<i64> = items.iter().map(|(_, m)| dedup_key(m)).collect();
        keys.sort_unstable();
        keys.dedup();
        tx.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) WITH ORDINALITY AS t(k, i) ORDER BY i",
            &[&keys],
        )
        .await
        .map_err(map)?;
    }
    let insert = tx.prepare_cached(&insert).await.map_err(map)?;
    let mut out = Vec::with_capacity(items.len());
    for ((had_id, m), v) in items.into_iter().zip(values) {
        if had_id {
            if let Some(old) = find(&tx, &m.scope.tenant, m.id).await? {
                if !old.is_expired(now) {
                    if !same(&old, &m) {
                        return Err(id_conflict(m.id));
                    }
                    out.push(Added {
                        memory: old,
                        created: false,
                    });
                    continue;
                }
                tx.execute(
                    "DELETE FROM memlane_memories WHERE tenant = $1 AND id = $2",
                    &[&m.scope.tenant, &m.id],
                )
                .await
                .map_err(map)?;
            }
        }
        if dedup {
            if let Some(existing) = find_duplicate(&tx, &m, now).await? {
                out.push(Added {
                    memory: existing,
                    created: false,
                });
                continue;
            }
        }
        let inserted = tx
            .execute(&insert, &v.params(&m, ts_config))
            .await
            .map_err(map)?;
        if inserted == 0 {
            // A concurrent add of the same id committed between our read and our insert.
            match find(&tx, &m.scope.tenant, m.id).await? {
                Some(old) if !old.is_expired(now) && same(&old, &m) => {
                    out.push(Added {
                        memory: old,
                        created: false,
                    });
                    continue;
                }
                _ => return Err(id_conflict(m.id)),
            }
        }
        out.push(Added {
            memory: m,
            created: true,
        });
    }
    if log {
        let changes: Vec<Change> = out
            .iter()
            .filter(|a| a.created)
            .map(|a| Change::Upsert {
                memory: a.memory.clone(),
            })
            .collect();
        outbox::append(&tx, &changes).await?;
    }
    tx.commit().await.map_err(map)?;
    Ok(out)
}

/// Applies a validated update, checking the version inside the transaction.
pub(crate) async fn update(
    client: &mut Client,
    tenant: &str,
    id: MemoryId,
    u: &Update,
    now: Timestamp,
    ts_config: &String,
    log: bool,
) -> Result<Memory> {
    let tx = client.transaction().await.map_err(map)?;
    let old = find(&tx, tenant, id)
        .await?
        .filter(|m| !m.is_expired(now))
        .ok_or_else(|| Error::not_found(NAME, format!("memory {id}")))?;
    if let Some(v) = u.expected_version {
        if v != old.version {
            return Err(Error::version_mismatch(NAME, v, old.version));
        }
    }
    let next = u.apply(&old, now);
    let values = Values::of(&next)?;
    let p = values.params(&next, ts_config);
    let sql = "UPDATE memlane_memories SET kind = $3, content = $4, metadata = $5, embedding_model = $6, \
               embedding = $7, updated_ms = $8, expires_ms = $9, version = $10, content_hash = $11, \
               ts_config = $12::text::regconfig WHERE tenant = $1 AND id = $2";
    let stmt = tx.prepare_cached(sql).await.map_err(map)?;
    tx.execute(
        &stmt,
        &[
            p[0], p[1], p[5], p[6], p[7], p[8], p[9], p[11], p[12], p[13], p[14], p[15],
        ],
    )
    .await
    .map_err(map)?;
    if log {
        outbox::append(
            &tx,
            &[Change::Upsert {
                memory: next.clone(),
            }],
        )
        .await?;
    }
    tx.commit().await.map_err(map)?;
    Ok(next)
}

/// Deletes one memory; not found when absent or expired (an expired one is deleted all the same).
pub(crate) async fn delete(
    client: &mut Client,
    tenant: &str,
    id: MemoryId,
    now: Timestamp,
    log: bool,
) -> Result<()> {
    let tx = client.transaction().await.map_err(map)?;
    let stmt = tx
        .prepare_cached(
            "DELETE FROM memlane_memories WHERE tenant = $1 AND id = $2 RETURNING expires_ms",
        )
        .await
        .map_err(map)?;
    let row = tx.query_opt(&stmt, &[&tenant, &id]).await.map_err(map)?;
    let expires: Option<Option<i64>> = row.map(|r| r.try_get(0)).transpose().map_err(map)?;
    if log && expires.is_some() {
        let change = Change::Delete {
            tenant: tenant.to_owned(),
            id,
        };
        outbox::append(&tx, &[change]).await?;
    }
    tx.commit().await.map_err(map)?;
    match expires {
        Some(e) if e.is_none_or(|e| e > now.as_millis()) => Ok(()),
        _ => Err(Error::not_found(NAME, format!("memory {id}"))),
    }
}

/// Deletes every memory of a scope; returns how many.
pub(crate) async fn forget(client: &mut Client, scope: &Scope, log: bool) -> Result<u64> {
    let mut w = Where::default();
    w.scope(scope);
    let sql = format!(
        "WITH d AS (DELETE FROM memlane_memories m WHERE {} RETURNING 1) SELECT count(*) FROM d",
        w.sql
    );
    let tx = client.transaction().await.map_err(map)?;
    let n: i64 = tx
        .query_typed_one(&sql, &w.typed())
        .await
        .map_err(map)?
        .try_get(0)
        .map_err(map)?;
    if log && n > 0 {
        let change = Change::Forget {
            scope: scope.clone(),
        };
        outbox::append(&tx, &[change]).await?;
    }
    tx.commit().await.map_err(map)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Deletes up to `batch` memories expired at `now` (rows other purges hold are skipped); returns how many.
pub(crate) async fn purge_batch(client: &Client, now: Timestamp, batch: i64) -> Result<u64> {
    let mut w = Where::default();
    let t = w.param(Param::Int(now.as_millis()));
    let n = w.param(Param::Int(batch));
    let sql = format!(
        "WITH d AS (DELETE FROM memlane_memories WHERE (tenant, id) IN (\
             SELECT tenant, id FROM memlane_memories WHERE expires_ms IS NOT NULL AND expires_ms <= {t} \
             ORDER BY expires_ms LIMIT {n} FOR UPDATE SKIP LOCKED) RETURNING 1) \
         SELECT count(*) FROM d"
    );
    let n: i64 = client
        .query_typed_one(&sql, &w.typed())
        .await
        .map_err(map)?
        .try_get(0)
        .map_err(map)?;
    Ok(u64::try_from(n).unwrap_or(0))
}
