//! Reads: get, list and count, each one SQL statement; keyword search, scored in RAM by the text index.

use memlane_core::{
    Filter, ListQuery, Memory, MemoryId, Page, Result, Scope, Scored, SearchQuery, Timestamp,
};
use std::collections::HashSet;
use std::sync::LazyLock;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use super::error::map;
use super::rows::{from_row, COLUMNS};
use super::search::fetch;
use super::sql::Where;
use super::text::tokenize::query_terms;
use super::text::{bm25, prefer_periods, top, when, with_context, TextIndex, MAX_QUERY_TERMS};

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
    if let [id] = ids {
        static ONE: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {COLUMNS} FROM memories m WHERE m.tenant = ?1 AND m.id = ?2 \
                 AND (m.expires_ms IS NULL OR m.expires_ms > ?3)"
            )
        });
        let params = vec![
            Value::Text(tenant.to_owned()),
            Value::Text(id.to_string()),
            Value::Integer(now.as_millis()),
        ];
        return query(conn, &ONE, params, |_, m| Ok(m));
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

/// The rowids among `rowids` whose memories pass `filter` (scope and expiry are checked in RAM before).
fn passing(conn: &Connection, rowids: &[i64], filter: &Filter) -> Result<HashSet<i64>> {
    let mut out = HashSet::new();
    for chunk in rowids.chunks(CHECK_CHUNK) {
        let mut w = Where::default();
        w.params.extend(chunk.iter().map(|r| Value::Integer(*r)));
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
        w.and(&format!("m.rowid IN ({})", marks.join(", ")));
        w.filter(filter);
        let sql = format!("SELECT m.rowid FROM memories m WHERE {}", w.sql);
        let mut stmt = conn.prepare_cached(&sql).map_err(map)?;
        let rows = stmt
            .query_map(params_from_iter(w.params), |r| r.get::<_, i64>(0))
            .map_err(map)?;
        for r in rows {
            out.insert(r.map_err(map)?);
        }
    }
    Ok(out)
}

/// Every live rowid of the query's scope passing its filter (the exact SQL path).
pub(crate) fn filtered_rows(
    conn: &Connection,
    q: &SearchQuery,
    now: Timestamp,
) -> Result<Vec<i64>> {
    let w = scoped(&q.scope, q.filter.as_ref(), now);
    let sql = format!("SELECT m.rowid FROM memories m WHERE {}", w.sql);
    let mut stmt = conn.prepare_cached(&sql).map_err(map)?;
    let rows = stmt
        .query_map(params_from_iter(w.params), |r| r.get::<_, i64>(0))
        .map_err(map)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map)
}

/// Candidates checked against a filter per SQL statement.
const CHECK_CHUNK: usize = 500;
/// With a filter, the best this many keyword matches are checked in SQL; when fewer than `limit` pass, the exact
/// path (every row of the scope passing the filter, from SQL) takes over.
const CHECK_MAX: usize = 2000;

/// Keyword search: BM25 over the scope in RAM with session context and the query's periods (see
/// [`super::text`]), scores in [0, 1); a metadata filter is checked in SQL on the best matches.
pub(crate) fn keyword(
    conn: &Connection,
    text: &TextIndex,
    q: &SearchQuery,
    now: Timestamp,
) -> Result<Vec<Scored>> {
    let terms = query_terms(&q.text, MAX_QUERY_TERMS);
    let periods = when::periods(&q.text);
    let now_ms = now.as_millis();
    let min = q.min_score.unwrap_or(0.0);
    let ranked: Vec<(i64, f32)> = {
        let ix = text.read();
        let Some(key) = ix.scope_key(&q.scope) else {
            return Ok(Vec::new());
        };
        let scores = bm25::score(&ix, &terms, &key, now_ms);
        let mut ranked: Vec<(u32, f32)> = scores
            .matched
            .iter()
            .map(|&s| (s, with_context(&ix, s, now_ms, |x| scores.get(x))))
            .collect();
        prefer_periods(&ix, &periods, &mut ranked);
        ranked
            .into_iter()
            .filter(|(_, s)| *s >= min)
            .map(|(s, score)| (ix.rowid[s as usize], score))
            .collect()
    };
    let Some(filter) = &q.filter else {
        return fetch(conn, &top(ranked, q.limit));
    };
    let total = ranked.len();
    let best = top(ranked.clone(), CHECK_MAX);
    let mut kept = Vec::with_capacity(q.limit);
    for chunk in best.chunks((4 * q.limit).max(100)) {
        let rowids: Vec<i64> = chunk.iter().map(|(r, _)| *r).collect();
        let ok = passing(conn, &rowids, filter)?;
        kept.extend(chunk.iter().filter(|(r, _)| ok.contains(r)).copied());
        if kept.len() >= q.limit {
            break;
        }
    }
    if kept.len() < q.limit && total > best.len() {
        let ok: HashSet<i64> = filtered_rows(conn, q, now)?.into_iter().collect();
        kept = ranked.into_iter().filter(|(r, _)| ok.contains(r)).collect();
    }
    fetch(conn, &top(kept, q.limit))
}

/// The tenants with at least one live memory, sorted (one pass over the tenant index).
pub(crate) fn tenants(conn: &Connection, now: Timestamp) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT DISTINCT tenant FROM memories \
             WHERE expires_ms IS NULL OR expires_ms > ?1 ORDER BY tenant",
        )
        .map_err(map)?;
    let rows = stmt
        .query_map([now.as_millis()], |r| r.get::<_, String>(0))
        .map_err(map)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map)
}
