//! Reads: get, list, count and keyword search, each one SQL statement.

use memlane_core::{
    Filter, ListQuery, Memory, MemoryId, Page, Result, Scope, Scored, SearchQuery, Timestamp,
};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use super::error::map;
use super::rows::{from_row, COLUMNS};
use super::sql::Where;

/// Runs a query selecting [`COLUMNS`] (plus any extra columns read by `extra`) and decodes every row.
pub(crate) fn query<T>(
    conn: &Connection,
    sql: &str,
    params: Vec<Value>,
    extra: impl Fn(&rusqlite::Row<'_>, Memory) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(map)?;
    let mut rows = stmt.query(params_from_iter(params)).map_err(map)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map)? {
        let (m, _rowid) = from_row(row).map_err(map)??;
        out.push(extra(row, m).map_err(map)?);
    }
    Ok(out)
}

/// The live memories of `tenant` with these ids, in the order of `ids`.
pub(crate) fn get_many(
    conn: &Connection,
    tenant: &str,
    ids: &[MemoryId],
    now: Timestamp,
) -> Result<Vec<Memory>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut w = Where::default();
    w.scope(&Scope::tenant(tenant));
    w.live(now);
    let mut params = std::mem::take(&mut w.params);
    let first = params.len() + 1;
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("?{}", first + i)).collect();
    params.extend(ids.iter().map(|id| Value::Text(id.to_string())));
    let sql = format!(
        "SELECT {COLUMNS} FROM memories m WHERE {} AND m.id IN ({})",
        w.sql,
        marks.join(", ")
    );
    let found = query(conn, &sql, params, |_, m| Ok(m))?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|m| m.id == *id).cloned())
        .collect())
}

fn scoped(scope: &Scope, filter: Option<&Filter>, now: Timestamp) -> Where {
    let mut w = Where::default();
    w.scope(scope);
    w.live(now);
    if let Some(f) = filter {
        w.filter(f);
    }
    w
}

/// A page of a listing, newest first.
pub(crate) fn list(conn: &Connection, q: &ListQuery, now: Timestamp) -> Result<Page> {
    let mut w = scoped(&q.scope, q.filter.as_ref(), now);
    if let Some(c) = q.cursor {
        w.params.push(Value::Integer(c.created_at.as_millis()));
        let t = w.params.len();
        w.params.push(Value::Text(c.id.to_string()));
        let i = w.params.len();
        w.and(&format!(
            "(m.created_ms < ?{t} OR (m.created_ms = ?{t} AND m.id < ?{i}))"
        ));
    }
    w.params.push(Value::Integer(
        i64::try_from(q.limit + 1).unwrap_or(i64::MAX),
    ));
    let sql = format!(
        "SELECT {COLUMNS} FROM memories m WHERE {} ORDER BY m.created_ms DESC, m.id DESC LIMIT ?{}",
        w.sql,
        w.params.len()
    );
    let memories = query(conn, &sql, w.params, |_, m| Ok(m))?;
    Ok(Page::from_overfetch(memories, q.limit))
}

/// How many live memories of `scope` pass `filter`.
pub(crate) fn count(
    conn: &Connection,
    scope: &Scope,
    filter: Option<&Filter>,
    now: Timestamp,
) -> Result<u64> {
    let w = scoped(scope, filter, now);
    let sql = format!("SELECT count(*) FROM memories m WHERE {}", w.sql);
    let n: i64 = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params_from_iter(w.params), |r| r.get(0)))
        .map_err(map)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The FTS5 query for free text: each word quoted (so no FTS syntax gets through), any of them may match.
/// `None` when the text has no words.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(64)
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

/// BM25 (as FTS5 computes it, lower is better) mapped to [0, 1): `s / (1 + s)` with `s = -bm25`.
/// Independent of the other results, so one threshold means the same thing on every query.
pub(crate) fn normalize_bm25(bm25: f64) -> f32 {
    let s = (-bm25).max(0.0);
    (s / (1.0 + s)) as f32
}

/// The FTS join, scope, expiry and filter of a keyword query, and the `LIMIT` parameter last; `None` when the
/// text has no words. The SQL it goes into selects from `memories_fts JOIN memories m`.
fn keyword_where(q: &SearchQuery, limit: usize, now: Timestamp) -> Option<Where> {
    let fts = fts_query(&q.text)?;
    let mut w = Where::default();
    w.params.push(Value::Text(fts));
    w.and("memories_fts MATCH ?1");
    w.scope(&q.scope);
    w.live(now);
    if let Some(f) = &q.filter {
        w.filter(f);
    }
    w.params
        .push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    Some(w)
}

fn keyword_sql(select: &str, w: &Where) -> String {
    format!(
        "SELECT {select}, bm25(memories_fts) AS rank FROM memories_fts \
         JOIN memories m ON m.rowid = memories_fts.rowid WHERE {} ORDER BY rank LIMIT ?{}",
        w.sql,
        w.params.len()
    )
}

/// The best `limit` keyword matches of `q` as (rowid, BM25 score `s = -bm25`, >= 0), best first.
pub(crate) fn keyword_rows(
    conn: &Connection,
    q: &SearchQuery,
    limit: usize,
    now: Timestamp,
) -> Result<Vec<(i64, f32)>> {
    let Some(w) = keyword_where(q, limit, now) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn
        .prepare_cached(&keyword_sql("m.rowid", &w))
        .map_err(map)?;
    let rows = stmt
        .query_map(params_from_iter(w.params), |r| {
            Ok((r.get::<_, i64>(0)?, (-r.get::<_, f64>(1)?).max(0.0) as f32))
        })
        .map_err(map)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map)
}

/// Keyword search ranked by BM25.
pub(crate) fn keyword(conn: &Connection, q: &SearchQuery, now: Timestamp) -> Result<Vec<Scored>> {
    let Some(w) = keyword_where(q, q.limit, now) else {
        return Ok(Vec::new());
    };
    let hits = query(conn, &keyword_sql(COLUMNS, &w), w.params, |row, memory| {
        let rank: f64 = row.get(16)?;
        Ok(Scored {
            memory,
            score: normalize_bm25(rank),
        })
    })?;
    let min = q.min_score.unwrap_or(0.0);
    Ok(hits.into_iter().filter(|s| s.score >= min).collect())
}
