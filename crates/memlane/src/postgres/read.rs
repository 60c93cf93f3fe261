//! Reads: get, list, count and keyword search, each one SQL statement.
//!
//! Fixed statements are prepared once per connection (deadpool's statement cache); statements that depend on a
//! filter are sent with their parameter types (`query_typed`: one round trip, no statement left behind).

use deadpool_postgres::Client;
use memlane_core::{
    Filter, ListQuery, Memory, MemoryId, Page, Result, Scope, Scored, SearchQuery, Timestamp,
};
use tokio_postgres::Row;

use super::error::map;
use super::rows::{from_row, COLUMNS, NCOLUMNS};
use super::sql::{Param, Where};

/// Runs a statement built with `w` and decodes every row; `extra` reads the columns after [`COLUMNS`].
pub(crate) async fn query<T>(
    client: &Client,
    sql: &str,
    w: &Where,
    extra: impl Fn(&Row, Memory) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = client.query_typed(sql, &w.typed()).await.map_err(map)?;
    rows.iter().map(|r| extra(r, from_row(r)?)).collect()
}

/// One live memory of `tenant`.
pub(crate) async fn get(
    client: &Client,
    tenant: &str,
    id: MemoryId,
    now: Timestamp,
) -> Result<Option<Memory>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM memlane_memories m \
         WHERE m.tenant = $1 AND m.id = $2 AND (m.expires_ms IS NULL OR m.expires_ms > $3)"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(map)?;
    let row = client
        .query_opt(&stmt, &[&tenant, &id, &now.as_millis()])
        .await
        .map_err(map)?;
    row.as_ref().map(from_row).transpose()
}

/// The live memories of `tenant` with these ids, in the order of `ids`.
pub(crate) async fn get_many(
    client: &Client,
    tenant: &str,
    ids: &[MemoryId],
    now: Timestamp,
) -> Result<Vec<Memory>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM memlane_memories m \
         WHERE m.tenant = $1 AND m.id = ANY($2) AND (m.expires_ms IS NULL OR m.expires_ms > $3)"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(map)?;
    let rows = client
        .query(&stmt, &[&tenant, &ids, &now.as_millis()])
        .await
        .map_err(map)?;
    let found = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|m| m.id == *id).cloned())
        .collect())
}

/// The clause of live memories in `scope` passing `filter`.
pub(crate) fn scoped(scope: &Scope, filter: Option<&Filter>, now: Timestamp) -> Where {
    let mut w = Where::default();
    w.scope(scope);
    w.live(now);
    if let Some(f) = filter {
        w.filter(f);
    }
    w
}

/// A page of a listing, newest first.
pub(crate) async fn list(client: &Client, q: &ListQuery, now: Timestamp) -> Result<Page> {
    let mut w = scoped(&q.scope, q.filter.as_ref(), now);
    if let Some(c) = q.cursor {
        let t = w.param(Param::Int(c.created_at.as_millis()));
        let i = w.param(Param::Uuid(c.id));
        w.and(&format!("(m.created_ms, m.id) < ({t}, {i})"));
    }
    let limit = w.param(Param::Int(i64::try_from(q.limit + 1).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {COLUMNS} FROM memlane_memories m WHERE {} ORDER BY m.created_ms DESC, m.id DESC LIMIT {limit}",
        w.sql
    );
    let memories = query(client, &sql, &w, |_, m| Ok(m)).await?;
    Ok(Page::from_overfetch(memories, q.limit))
}

/// How many live memories of `scope` pass `filter`.
pub(crate) async fn count(
    client: &Client,
    scope: &Scope,
    filter: Option<&Filter>,
    now: Timestamp,
) -> Result<u64> {
    let w = scoped(scope, filter, now);
    let sql = format!("SELECT count(*) FROM memlane_memories m WHERE {}", w.sql);
    let row = client
        .query_typed_one(&sql, &w.typed())
        .await
        .map_err(map)?;
    let n: i64 = row.try_get(0).map_err(map)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The words of a free-text query: runs of letters and digits, at most 64 (no query syntax gets through).
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(64)
        .map(str::to_owned)
        .collect()
}

/// Keyword search: memories with any of the query's words (after the text search configuration's stemming and stop
/// words), ranked by `ts_rank` with normalization 32 (`rank / (rank + 1)`, in [0, 1)), best first, ties newest first.
/// (`ts_rank_cd`, the cover-density rank, was measured three times slower over 100,000 memories for little gain on
/// short texts.)
pub(crate) async fn keyword(
    client: &Client,
    q: &SearchQuery,
    ts_config: u32,
    now: Timestamp,
) -> Result<Vec<Scored>> {
    let words = words(&q.text);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut w = Where::default();
    // The configuration's OID, so that every term is a constant folded at planning (a `text` cast to `regconfig`
    // is not, and would recompute the query for every row).
    let cfg = w.param(Param::Oid(ts_config));
    let terms: Vec<String> = words
        .into_iter()
        .map(|word| {
            let p = w.param(Param::Text(word));
            format!("plainto_tsquery({cfg}::regconfig, {p})")
        })
        .collect();
    let tsq = format!("({})", terms.join(" || "));
    w.and(&format!("m.fts @@ {tsq}"));
    w.scope(&q.scope);
    w.live(now);
    if let Some(f) = &q.filter {
        w.filter(f);
    }
    let limit = w.param(Param::Int(i64::try_from(q.limit).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {COLUMNS}, ts_rank(m.fts, {tsq}, 32) AS rank FROM memlane_memories m WHERE {} \
         ORDER BY rank DESC, m.created_ms DESC, m.id DESC LIMIT {limit}",
        w.sql
    );
    let hits = query(client, &sql, &w, |row, memory| {
        let rank: f32 = row.try_get(NCOLUMNS).map_err(map)?;
        Ok(Scored {
            memory,
            score: rank.clamp(0.0, 1.0),
        })
    })
    .await?;
    let min = q.min_score.unwrap_or(0.0);
    Ok(hits.into_iter().filter(|s| s.score >= min).collect())
}

/// The tenants with at least one live memory, sorted: a loose index scan over the primary key (one index probe per
/// tenant, not a pass over every row), then a live-memory check per tenant.
pub(crate) async fn tenants(client: &Client, now: Timestamp) -> Result<Vec<String>> {
    let sql = "WITH RECURSIVE t(tenant) AS ( \
           (SELECT tenant FROM memlane_memories ORDER BY tenant LIMIT 1) \
           UNION ALL \
           SELECT (SELECT m.tenant FROM memlane_memories m WHERE m.tenant > t.tenant ORDER BY m.tenant LIMIT 1) \
           FROM t WHERE t.tenant IS NOT NULL) \
         SELECT t.tenant FROM t WHERE t.tenant IS NOT NULL AND EXISTS ( \
           SELECT 1 FROM memlane_memories m WHERE m.tenant = t.tenant \
           AND (m.expires_ms IS NULL OR m.expires_ms > $1)) \
         ORDER BY t.tenant";
    let stmt = client.prepare_cached(sql).await.map_err(map)?;
    let rows = client
        .query(&stmt, &[&now.as_millis()])
        .await
        .map_err(map)?;
    rows.iter()
        .map(|r| r.try_get::<_, String>(0).map_err(map))
        .collect()
}
