//! Semantic and hybrid search over the vectors in RAM ([`super::vectors`]).
//!
//! - **semantic**: SQL selects the rowids that pass scope, expiry and filter; each of their vectors of the query's
//!   model is scored by cosine similarity (exact, recall 1.0); the score is the cosine clamped to [0, 1].
//! - **hybrid**: a convex combination `alpha * semantic + (1 - alpha) * keyword` over the union of the best
//!   `candidates` of each (`alpha` 0.5, candidates `max(5 * limit, 50)`), where semantic is the clamped cosine and
//!   keyword is the BM25 score divided by the best BM25 score of the query's candidates (relative score fusion:
//!   BM25's scale varies with the corpus, so it is made relative per query; a memory outside the keyword
//!   candidates counts 0 on that side). Scores stay in [0, 1].

use std::collections::HashMap;

use memlane_core::{Error, Result, Scored, SearchQuery, Timestamp};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use super::error::map;
use super::read::{keyword_rows, query};
use super::rows::COLUMNS;
use super::sql::Where;
use super::vectors::Vectors;

/// The weight of the semantic side in hybrid scores.
pub(crate) const HYBRID_ALPHA: f32 = 0.5;

fn query_embedding(q: &SearchQuery) -> Result<&memlane_core::Embedding> {
    q.embedding.as_ref().ok_or_else(|| {
        Error::invalid(
            "embedding",
            format!(
                "{} search needs the query's embedding: open the store with an embedder (e.g. the option embedder=minilm) or pass one",
                q.mode
            ),
        )
    })
}

/// Every live rowid of the query's scope passing its filter, scored by cosine similarity, best first.
fn scored(
    conn: &Connection,
    vectors: &Vectors,
    q: &SearchQuery,
    now: Timestamp,
) -> Result<Vec<(i64, f32)>> {
    let e = query_embedding(q)?;
    let mut w = Where::default();
    w.scope(&q.scope);
    w.live(now);
    if let Some(f) = &q.filter {
        w.filter(f);
    }
    w.and("m.embedding IS NOT NULL");
    let sql = format!("SELECT m.rowid FROM memories m WHERE {}", w.sql);
    let mut stmt = conn.prepare_cached(&sql).map_err(map)?;
    let rowids = stmt
        .query_map(params_from_iter(w.params), |r| r.get::<_, i64>(0))
        .map_err(map)?
        .collect::<rusqlite::Result<Vec<i64>>>()
        .map_err(map)?;
    let mut hits = vectors.score(&e.model, &e.vector, &rowids);
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(hits)
}

/// The memories of `ranked` rowids, in that order, with their scores.
fn fetch(conn: &Connection, ranked: &[(i64, f32)]) -> Result<Vec<Scored>> {
    if ranked.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ranked.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM memories m WHERE m.rowid IN ({})",
        marks.join(", ")
    );
    let params = ranked.iter().map(|(r, _)| Value::Integer(*r)).collect();
    let rows: HashMap<i64, _> =
        query(conn, &sql, params, |row, m| Ok((row.get::<_, i64>(15)?, m)))?
            .into_iter()
            .collect();
    Ok(ranked
        .iter()
        .filter_map(|(r, s)| {
            rows.get(r).map(|m| Scored {
                memory: m.clone(),
                score: s.clamp(0.0, 1.0),
            })
        })
        .collect())
}

fn finish(mut ranked: Vec<(i64, f32)>, q: &SearchQuery) -> Vec<(i64, f32)> {
    let min = q.min_score.unwrap_or(0.0);
    ranked.retain(|(_, s)| s.clamp(0.0, 1.0) >= min);
    ranked.truncate(q.limit);
    ranked
}

/// Semantic search.
pub(crate) fn semantic(
    conn: &Connection,
    vectors: &Vectors,
    q: &SearchQuery,
    now: Timestamp,
) -> Result<Vec<Scored>> {
    let hits = scored(conn, vectors, q, now)?;
    fetch(conn, &finish(hits, q))
}

/// Hybrid search.
pub(crate) fn hybrid(
    conn: &Connection,
    vectors: &Vectors,
    q: &SearchQuery,
    now: Timestamp,
) -> Result<Vec<Scored>> {
    let candidates = (q.limit * 5).max(50);
    let sem = scored(conn, vectors, q, now)?;
    let kw_rows = keyword_rows(conn, q, candidates, now)?;
    let best = kw_rows.iter().map(|(_, s)| *s).fold(0.0f32, f32::max);
    let kw: HashMap<i64, f32> = kw_rows
        .into_iter()
        .map(|(r, s)| (r, if best > 0.0 { s / best } else { 0.0 }))
        .collect();
    let sem_score: HashMap<i64, f32> = sem.iter().copied().collect();
    let mut pool: Vec<i64> = sem.iter().take(candidates).map(|(r, _)| *r).collect();
    pool.extend(kw.keys().copied());
    pool.sort_unstable();
    pool.dedup();
    let mut fused: Vec<(i64, f32)> = pool
        .into_iter()
        .map(|r| {
            let s = sem_score.get(&r).copied().unwrap_or(0.0).max(0.0);
            let k = kw.get(&r).copied().unwrap_or(0.0);
            (r, HYBRID_ALPHA * s + (1.0 - HYBRID_ALPHA) * k)
        })
        .collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fetch(conn, &finish(fused, q))
}
