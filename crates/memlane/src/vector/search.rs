//! Semantic search: the query's vector against the index of its model and dimension, confined to the query's
//! tenant, scope and filter, unexpired.
//!
//! The candidates are the tenant's vectors, or, when the scope names a user, agent or session, the smallest of
//! those sets (kept in RAM per tenant). When there are few candidates (at most the index's `exact_scan_max`, or its
//! `exact_scan_fraction` of the index), those that pass are handed over as an allow-list, which the index scores
//! exactly; otherwise the index gets the test as a predicate and its planner either scans the few that pass or
//! walks the graph with a beam widened for the filter. Scores are cosine similarities clamped to [0, 1].

use std::cmp::Ordering;

use memlane_core::{Embedding, Error, Filter, Memory, Result, SearchQuery, Timestamp};
use memlane_vector::{Filter as IndexFilter, SearchParams};

use super::error::{index as index_err, poisoned};
use super::state::Entry;
use super::write::indexable;
use super::Inner;

/// Checks the query's embedding: present, finite, with a direction.
fn query_vector(e: Option<&Embedding>) -> Result<&Embedding> {
    let e = e.ok_or_else(|| {
        Error::invalid(
            "embedding",
            "semantic search needs the query's embedding: give one, or open the store with an embedder",
        )
    })?;
    if e.vector.is_empty() || e.vector.iter().any(|x| !x.is_finite()) {
        return Err(Error::invalid(
            "embedding",
            "the query vector must be non-empty and finite",
        ));
    }
    if !indexable(&e.vector) {
        return Err(Error::invalid("embedding", "the query vector is zero"));
    }
    Ok(e)
}

/// Whether `e` may be a result of a query in `scope` with `filter` at `now`.
fn passes(e: &Entry, q: &SearchQuery, now: Timestamp) -> bool {
    !e.memory.is_expired(now)
        && q.scope.matches(&e.memory.scope)
        && q.filter
            .as_ref()
            .is_none_or(|f: &Filter| f.matches(&e.memory))
}

/// The best matches, as memories without their vectors (filled by the caller) and scores, best first.
pub(crate) fn run(inner: &Inner, q: &SearchQuery) -> Result<Vec<(Memory, f32)>> {
    let e = query_vector(q.embedding.as_ref())?;
    let Some(slot) = inner.indexes.find(&e.model, e.dim())? else {
        return Ok(Vec::new());
    };
    let now = Timestamp::now();
    let state = inner.state.read().map_err(|_| poisoned())?;
    let Some(t) = state.tenants.get(&q.scope.tenant) else {
        return Ok(Vec::new());
    };
    let index = &slot.index;
    let config = index.config();
    let small = (config.exact_scan_max as f64).max(config.exact_scan_fraction * index.len() as f64);
    // Without a filter, the vector maps answer alone (scope sets, expiry); with one, the memory is tested too.
    let keep = |v: u64| {
        t.vec_in_scope(v, slot.no, &q.scope, now)
            && q.filter
                .as_ref()
                .is_none_or(|f: &Filter| t.by_vec(v).is_some_and(|e| f.matches(&e.memory)))
    };
    // The candidates: the vectors of the scope's user, agent or session when it names one, else the tenant's.
    let scoped = t.scoped_vectors(&q.scope);
    let candidates = scoped.map_or(t.vector_count(), |s| s.len());
    let allowed: Vec<u64>;
    let filter = if (candidates as f64) <= small {
        allowed = match scoped {
            Some(set) => set.iter().copied().filter(|v| keep(*v)).collect(),
            None => t.vectors().filter(|v| keep(*v)).collect(),
        };
        if allowed.is_empty() {
            return Ok(Vec::new());
        }
        IndexFilter::AllowList(&allowed)
    } else {
        IndexFilter::Predicate {
            keep: &keep,
            // Without a filter the scope's candidates pass (nearly) all; with one, the index samples.
            estimate: (scoped.is_some() && q.filter.is_none()).then_some(candidates),
        }
    };
    let params = SearchParams {
        ef: None,
        min_score: q.min_score,
        filter,
    };
    let hits = index
        .search(&e.vector, q.limit, &params)
        .map_err(index_err)?;
    let mut out: Vec<(Memory, f32)> = hits
        .into_iter()
        .filter_map(|(v, score)| {
            let e = t.by_vec(v).filter(|e| passes(e, q, now))?;
            Some((e.memory.clone(), score.clamp(0.0, 1.0)))
        })
        .collect();
    rank(&mut out);
    Ok(out)
}

/// Orders results best first; ties newest first.
fn rank(hits: &mut [(Memory, f32)]) {
    hits.sort_by(|a, b| {
        b.1.partial_cmp(&a.1)
            .unwrap_or(Ordering::Equal)
            .then_with(|| (b.0.created_at, b.0.id).cmp(&(a.0.created_at, a.0.id)))
    });
}
