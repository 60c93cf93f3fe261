//! Semantic and hybrid search over the vectors ([`super::vectors`]) and the text index ([`super::text`]) in RAM.
//!
//! - **semantic**: the rowids that pass scope and expiry come from the text index in RAM (from SQL when there is a
//!   metadata filter); each of their vectors of the query's model is scored by cosine similarity (exact, recall
//!   1.0); the score is the cosine clamped to [0, 1].
//! - **hybrid**: over the union of the best `candidates` of each side (`max(5 * limit, 50)`) and their session
//!   neighbours, `fused = alpha * semantic + (1 - alpha) * keyword` (`alpha` = [`HYBRID_ALPHA`]), where semantic is
//!   the clamped cosine and keyword the BM25 score divided by the best BM25 score among the query's keyword
//!   candidates (relative score fusion: it puts both sides on the same [0, 1] scale for each query; a memory with
//!   none of the words counts 0 on that side). The fused score is then read with session context and the query's
//!   periods as in keyword search (see [`super::text`]). Scores stay in [0, 1].

use std::collections::{HashMap, HashSet};

use memlane_core::{Embedding, Error, Result, Scored, SearchQuery, Timestamp};
use rusqlite::types::Value;
use rusqlite::Connection;

use super::read::{filtered_rows, query};
use super::rows::COLUMNS;
use super::text::index::NO_SLOT;
use super::text::tokenize::query_terms;
use super::text::{bm25, prefer_periods, top, when, with_context, TextIndex, MAX_QUERY_TERMS};
use super::vectors::Vectors;

/// The weight of the semantic side in hybrid scores.
pub(crate) const HYBRID_ALPHA: f32 = 0.5;

fn query_embedding(q: &SearchQuery) -> Result<&Embedding> {
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

/// The live rowids of the query's scope passing its filter: in RAM without a filter, from SQL with one.
fn candidates(
    conn: &Connection,
    text: &TextIndex,
    q: &SearchQuery,
    now: Timestamp,
) -> Result<Option<Vec<i64>>> {
    if q.filter.is_some() {
        return filtered_rows(conn, q, now).map(Some);
    }
    let ix = text.read();
    Ok(ix
        .scope_key(&q.scope)
        .map(|key| ix.rows_in(&key, now.as_millis())))
}

/// The memories of `ranked` rowids, in that order, with their scores.
pub(crate) fn fetch(conn: &Connection, ranked: &[(i64, f32)]) -> Result<Vec<Scored>> {
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

fn finish(ranked: Vec<(i64, f32)>, q: &SearchQuery) -> Vec<(i64, f32)> {
    let min = q.min_score.unwrap_or(0.0);
    let kept = ranked
        .into_iter()
        .filter(|(_, s)| s.clamp(0.0, 1.0) >= min)
        .collect();
    top(kept, q.limit)
}

/// Semantic search.
pub(crate) fn semantic(
    conn: &Connection,
    vectors: &Vectors,
    text: &TextIndex,
    q: &SearchQuery,
    now: Timestamp,
) -> Result<Vec<Scored>> {
    let e = query_embedding(q)?;
    let Some(rows) = candidates(conn, text, q, now)? else {
        return Ok(Vec::new());
    };
    let hits = vectors.score(&e.model, &e.vector, &rows);
    fetch(conn, &finish(hits, q))
}

/// Hybrid search.
pub(crate) fn hybrid(
    conn: &Connection,
    vectors: &Vectors,
    text: &TextIndex,
    q: &SearchQuery,
    now: Timestamp,
) -> Result<Vec<Scored>> {
    let e = query_embedding(q)?;
    let Some(rows) = candidates(conn, text, q, now)? else {
        return Ok(Vec::new());
    };
    let n = (q.limit * 5).max(50);
    let now_ms = now.as_millis();
    let terms = query_terms(&q.text, MAX_QUERY_TERMS);
    let periods = when::periods(&q.text);
    let allowed: Option<HashSet<i64>> = q.filter.as_ref().map(|_| rows.iter().copied().collect());
    let sem_best = top(vectors.score(&e.model, &e.vector, &rows), n);
    let fused: Vec<(i64, f32)> = {
        let ix = text.read();
        let Some(key) = ix.scope_key(&q.scope) else {
            return Ok(Vec::new());
        };
        let kw = bm25::score(&ix, &terms, &key, now_ms);
        let ok = |r: i64| allowed.as_ref().is_none_or(|a| a.contains(&r));
        let kw_best = top(
            kw.matched
                .iter()
                .filter(|s| ok(ix.rowid[**s as usize]))
                .map(|s| (*s, kw.get(*s)))
                .collect(),
            n,
        );
        let best = kw_best.first().map_or(0.0, |(_, s)| *s);
        let mut pool: Vec<u32> = sem_best.iter().filter_map(|(r, _)| ix.slot(*r)).collect();
        pool.extend(kw_best.iter().map(|(s, _)| *s));
        let seeds = pool.len();
        for i in 0..seeds {
            for nb in ix.neighbours(pool[i], now_ms) {
                if nb != NO_SLOT && ok(ix.rowid[nb as usize]) {
                    pool.push(nb);
                }
            }
        }
        pool.sort_unstable();
        pool.dedup();
        // Cosines of the pool, and of the neighbours read as context (which a filter may have left out).
        let mut cosine: HashMap<i64, f32> = sem_best.into_iter().collect();
        let mut missing: Vec<i64> = Vec::new();
        for &s in &pool {
            for x in std::iter::once(s).chain(ix.neighbours(s, now_ms)) {
                if x != NO_SLOT && !cosine.contains_key(&ix.rowid[x as usize]) {
                    missing.push(ix.rowid[x as usize]);
                }
            }
        }
        missing.sort_unstable();
        missing.dedup();
        cosine.extend(vectors.score(&e.model, &e.vector, &missing));
        let score = |s: u32| {
            let cos = cosine.get(&ix.rowid[s as usize]).copied().unwrap_or(0.0);
            let k = if best > 0.0 {
                (kw.get(s) / best).min(1.0)
            } else {
                0.0
            };
            HYBRID_ALPHA * cos.max(0.0) + (1.0 - HYBRID_ALPHA) * k
        };
        let mut ranked: Vec<(u32, f32)> = pool
            .iter()
            .map(|&s| (s, with_context(&ix, s, now_ms, score)))
            .collect();
        prefer_periods(&ix, &periods, &mut ranked);
        ranked
            .into_iter()
            .map(|(s, f)| (ix.rowid[s as usize], f))
            .collect()
    };
    fetch(conn, &finish(fused, q))
}
