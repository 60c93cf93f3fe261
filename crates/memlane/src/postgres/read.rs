//! Reads: get, list, count and keyword search, each one SQL statement.
//!
//! Statements are prepared once per connection (deadpool's statement cache); those that depend on a filter too, up
//! to [`MAX_PREPARED`] per connection, past which they are sent with their parameter types (`query_typed`: one
//! round trip, no statement left behind).

use deadpool_postgres::Client;
use memlane_core::{
    Filter, ListQuery, Memory, MemoryId, Page, Result, Scope, Scored, SearchQuery, Timestamp,
};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::error::map;
use super::rows::{columns, from_row, list_columns, COLUMNS, NCOLUMNS};
use super::sql::{Param, Where};

/// Runs a statement built with `w` and decodes every row; `extra` reads the columns after [`COLUMNS`].
pub(crate) async fn query<T>(
    client: &Client,
    sql: &str,
    w: &Where,
    extra: impl Fn(&Row, Memory) -> Result<T>,
) -> Result<Vec<T>> {
    let typed = w.typed();
    let rows = if client.statement_cache.size() < MAX_PREPARED {
        let types: Vec<Type> = typed.iter().map(|(_, t)| t.clone()).collect();
        let stmt = client
            .prepare_typed_cached(sql, &types)
            .await
            .map_err(map)?;
        let params: Vec<&(dyn ToSql + Sync)> = typed.iter().map(|(v, _)| *v).collect();
        client.query(&stmt, &params).await.map_err(map)?
    } else {
        client.query_typed(sql, &typed).await.map_err(map)?
    };
    rows.iter().map(|r| extra(r, from_row(r)?)).collect()
}

/// Statements a connection keeps prepared at most. Filter values are parameters, so a statement's text depends
/// only on the filter's shape; the first [`MAX_PREPARED`] shapes a connection sees skip parsing (and, when the
/// server finds a generic plan as good, planning) on every later call, and further shapes are sent unprepared
/// (`query_typed`), so that clients sending ever new shapes cannot grow the cache without bound.
const MAX_PREPARED: usize = 256;

/// One live memory of `tenant`.
/// (`vector`: the database has pgvector; see [`columns`].)
pub(crate) async fn get(
    client: &Client,
    tenant: &str,
    id: MemoryId,
    now: Timestamp,
    vector: bool,
) -> Result<Option<Memory>> {
    let cols = columns(vector);
    let sql = format!(
        "SELECT {cols} FROM memlane_memories m \
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
    vector: bool,
) -> Result<Vec<Memory>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let cols = columns(vector);
    let sql = format!(
        "SELECT {cols} FROM memlane_memories m \
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

/// How many of a scope's newest memories (after the cursor) a filtered listing examines in order before it turns to
/// the metadata index: enough that a filter passed by one memory in 30 fills a page of 10 in one statement.
fn window(limit: usize) -> usize {
    limit.saturating_add(1).saturating_mul(32).clamp(256, 4096)
}

/// A `LIMIT` written into the statement as a number (memlane's own integer, never caller text), not bound as a
/// parameter. With `LIMIT $n`, PostgreSQL's generic plan of a prepared listing assumes a tenth of the table and
/// looks costlier than a plan made for the actual values, so the server planned every listing again (0.12-0.17 ms
/// of a 10-row filtered listing's ~0.25 ms of server time here); with the number in the text, the generic plan
/// is as cheap and, after the first five calls, reused. One statement per (filter shape, limit), within
/// [`MAX_PREPARED`].
fn limit_sql(n: usize) -> String {
    i64::try_from(n).unwrap_or(i64::MAX).to_string()
}

/// Adds the cursor's condition (memories after it, newest first).
fn after(w: &mut Where, created_ms: i64, id: MemoryId) {
    let t = w.param(Param::Int(created_ms));
    let i = w.param(Param::Uuid(id));
    w.and(&format!("(m.created_ms, m.id) < ({t}, {i})"));
}

/// A page of a listing, newest first.
///
/// Without a filter: one walk of the scope's `created` index. With a filter, the same walk first examines at most
/// [`window`] memories (one statement, which stops as soon as the page is full): a filter that many memories pass
/// is answered there. Only when the window yields less than a page does a second statement look past its last
/// hit, with the filter's metadata equalities as a containment (`metadata @> ..`) that the GIN index on `metadata`
/// answers, so a filter that few or none of the scope's memories pass is not a walk over all of them. (The planner
/// cannot tell the two cases apart by itself: its estimate of a `jsonb` containment does not follow the data.)
/// (`vector`: the database has pgvector; see [`columns`].)
pub(crate) async fn list(
    client: &Client,
    q: &ListQuery,
    now: Timestamp,
    vector: bool,
    indexed: &[String],
) -> Result<Page> {
    let cols = list_columns(vector, q.embeddings);
    if let Some(page) = list_by_indexed_key(client, q, now, cols, indexed).await? {
        return Ok(page);
    }
    let mut w = scoped(&q.scope, None, now);
    if let Some(c) = q.cursor {
        after(&mut w, c.created_at.as_millis(), c.id);
    }
    let want = q.limit.saturating_add(1);
    let Some(filter) = q.filter.as_ref() else {
        let limit = limit_sql(want);
        let sql = format!(
            "SELECT {cols} FROM memlane_memories m WHERE {} ORDER BY m.created_ms DESC, m.id DESC LIMIT {limit}",
            w.sql
        );
        let memories = query(client, &sql, &w, |_, m| Ok(m)).await?;
        return Ok(Page::from_overfetch(memories, q.limit));
    };
    // The window. The filter is computed as a column, not a condition of the walk, so that the walk stops at the
    // window's end; the containment, when there is one, goes first: it is cheaper than the filter and rules out
    // most rows. The outer ORDER BY is the walk's own order (no sort: the plan still stops once the page is full).
    let exact = w.condition(filter);
    let hit = match w.containment_sql(filter) {
        Some(c) => format!("({c} AND {exact})"),
        None => exact,
    };
    let win = limit_sql(window(q.limit));
    let limit = limit_sql(want);
    let sql = format!(
        "SELECT {cols} FROM (SELECT {COLUMNS}, {hit} AS hit FROM memlane_memories m WHERE {} \
         ORDER BY m.created_ms DESC, m.id DESC LIMIT {win}) m \
         WHERE m.hit ORDER BY m.created_ms DESC, m.id DESC LIMIT {limit}",
        w.sql
    );
    let mut memories = query(client, &sql, &w, |_, m| Ok(m)).await?;
    if memories.len() >= want {
        return Ok(Page::from_overfetch(memories, q.limit));
    }
    // Past the last hit (or the cursor): the window may have ended before the scope did.
    let mut w = scoped(&q.scope, Some(filter), now);
    match (memories.last(), q.cursor) {
        (Some(m), _) => after(&mut w, m.created_at.as_millis(), m.id),
        (None, Some(c)) => after(&mut w, c.created_at.as_millis(), c.id),
        (None, None) => {}
    }
    // With a containment, ordering by an expression keeps the planner off the `created` index (whose walk the
    // window just did) and on the GIN index; without one, the walk goes on.
    let order = if w.containment(filter) {
        "m.created_ms + 0 DESC, m.id DESC"
    } else {
        "m.created_ms DESC, m.id DESC"
    };
    // A whole page's worth (not just what is missing), so that the statement's text does not depend on how many
    // the window found; the surplus is cut below.
    let limit = limit_sql(want);
    let sql = format!(
        "SELECT {cols} FROM memlane_memories m WHERE {} ORDER BY {order} LIMIT {limit}",
        w.sql
    );
    memories.extend(query(client, &sql, &w, |_, m| Ok(m)).await?);
    Ok(Page::from_overfetch(memories, q.limit))
}

/// A user's listing whose filter requires `metadata.KEY eq "string"` for a declared key
/// ([`super::PostgresConfig::index_metadata`]): one statement on that key's index, which holds the user's
/// memories of each value newest first, so it reads the page and no more. `None` when the listing is not one.
async fn list_by_indexed_key(
    client: &Client,
    q: &ListQuery,
    now: Timestamp,
    cols: &str,
    indexed: &[String],
) -> Result<Option<Page>> {
    let (Some(filter), Some(_)) = (q.filter.as_ref(), q.scope.user.as_ref()) else {
        return Ok(None);
    };
    let eqs = super::sql::top_level_string_eqs(filter);
    let Some((key, value)) = indexed.iter().find_map(|k| {
        eqs.iter()
            .find(|(key, _)| key == k)
            .map(|&(_, v)| (k, v.to_owned()))
    }) else {
        return Ok(None);
    };
    let mut w = scoped(&q.scope, Some(filter), now);
    if let Some(c) = q.cursor {
        after(&mut w, c.created_at.as_millis(), c.id);
    }
    // The index's expression, word for word (the key is a checked plain name); the filter above still decides.
    let v = w.param(Param::Text(value));
    w.and(&format!("(m.metadata ->> '{key}') = {v}"));
    let limit = limit_sql(q.limit.saturating_add(1));
    let sql = format!(
        "SELECT {cols} FROM memlane_memories m WHERE {} ORDER BY m.created_ms DESC, m.id DESC LIMIT {limit}",
        w.sql
    );
    let memories = query(client, &sql, &w, |_, m| Ok(m)).await?;
    Ok(Some(Page::from_overfetch(memories, q.limit)))
}

/// How many live memories of `scope` pass `filter`.
pub(crate) async fn count(
    client: &Client,
    scope: &Scope,
    filter: Option<&Filter>,
    now: Timestamp,
) -> Result<u64> {
    let mut w = scoped(scope, filter, now);
    if let Some(f) = filter {
        w.containment(f);
    }
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
    vector: bool,
) -> Result<Vec<Scored>> {
    let cols = columns(vector);
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
        "SELECT {cols}, ts_rank(m.fts, {tsq}, 32) AS rank FROM memlane_memories m WHERE {} \
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
