//! BM25 over the memories of the query's scope, normalized to [0, 1).
//!
//! For query terms `t` (see [`super::tokenize::query_terms`]) and a memory `d` of the scope:
//!
//! ```text
//! idf(t)  = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))          (Lucene's IDF: always positive)
//! bm25(d) = Σ idf(t) · tf(t,d) · (k1 + 1) / (tf(t,d) + k1 · (1 - b + b · len(d) / avglen))
//! score   = bm25(d) / Σ idf(t) · (k1 + 1)                     (over every query term, found or not)
//! ```
//!
//! `N` is the number of memories in the scope, `n(t)` those containing `t`, `len` counts a memory's non-stopword
//! terms; `k1` = [`K1`], `b` = [`B`]. Statistics are those of the scope (not of the whole database), so a word
//! common in one user's memories weighs little there however rare it is elsewhere. The divisor is the most any
//! memory could score, so the score is the share of the query's attainable BM25: independent of the other results,
//! and one threshold means the same thing on every query.

use super::index::{Index, ScopeIds};

/// BM25's term-frequency saturation.
pub(crate) const K1: f32 = 1.2;
/// BM25's length normalization.
pub(crate) const B: f32 = 0.75;

/// Keyword scores of one query over a scope.
#[derive(Debug, Default)]
pub(crate) struct Scores {
    /// The normalized score of each slot (0 when the memory has none of the words or is outside the scope).
    pub(crate) by_slot: Vec<f32>,
    /// The slots scoring above 0.
    pub(crate) matched: Vec<u32>,
}

impl Scores {
    /// The score of a slot.
    #[inline]
    pub(crate) fn get(&self, slot: u32) -> f32 {
        self.by_slot.get(slot as usize).copied().unwrap_or(0.0)
    }
}

/// Scores every live memory of the scope `key` that has one of `terms`.
pub(crate) fn score(ix: &Index, terms: &[String], key: &ScopeIds, now_ms: i64) -> Scores {
    let stat = ix.stat(key);
    if stat.docs == 0 || terms.is_empty() {
        return Scores::default();
    }
    let n_docs = stat.docs as f32;
    let avg = (stat.len as f32 / n_docs).max(1.0);
    let mut by_slot = vec![0.0f32; ix.rowid.len()];
    let mut matched = Vec::new();
    let mut hits: Vec<(u32, u32)> = Vec::new();
    let mut total = 0.0f32;
    for t in terms {
        hits.clear();
        for p in ix.postings_of(t).unwrap_or(&[]) {
            let i = p.slot as usize;
            if ix.alive[i] && key.admits(&ix.scope[i]) {
                hits.push((p.slot, p.tf));
            }
        }
        let n = (hits.len() as f32).min(n_docs);
        let idf = (1.0 + (n_docs - n + 0.5) / (n + 0.5)).ln();
        total += idf * (K1 + 1.0);
        for &(slot, tf) in &hits {
            let i = slot as usize;
            if ix.expires[i] <= now_ms {
                continue;
            }
            let tf = tf as f32;
            let norm = K1 * (1.0 - B + B * ix.len[i] as f32 / avg);
            if by_slot[i] == 0.0 {
                matched.push(slot);
            }
            by_slot[i] += idf * tf * (K1 + 1.0) / (tf + norm);
        }
    }
    if total > 0.0 {
        for &s in &matched {
            by_slot[s as usize] /= total;
        }
    }
    Scores { by_slot, matched }
}
