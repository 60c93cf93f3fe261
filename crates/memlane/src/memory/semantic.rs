//! Semantic search by brute force: the cosine similarity of the query's vector with every candidate's.

use std::cmp::Ordering;

use memlane_core::{Embedding, Error, Memory, Result, Scored};

/// Checks the query's embedding: present, non-empty, finite, not zero.
pub(super) fn query_vector(e: Option<&Embedding>) -> Result<&Embedding> {
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
    if norm(&e.vector) == 0.0 {
        return Err(Error::invalid("embedding", "the query vector is zero"));
    }
    Ok(e)
}

fn norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt()
}

/// The score of `m` for the query vector `q`: the cosine similarity, clamped to [0, 1]; `None` when `m` has no
/// vector of the same model and dimension (vectors of different models are never compared).
pub(super) fn score(q: &Embedding, m: &Memory) -> Option<f32> {
    let e = m.embedding.as_ref()?;
    if e.model != q.model || e.vector.len() != q.vector.len() {
        return None;
    }
    let n = norm(&e.vector);
    if n == 0.0 {
        return None;
    }
    let dot: f64 = q
        .vector
        .iter()
        .zip(&e.vector)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    let cos = dot / (norm(&q.vector) * n);
    Some(cos.clamp(0.0, 1.0) as f32)
}

/// Orders results best first; ties newest first.
pub(super) fn rank(hits: &mut [Scored]) {
    hits.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| {
                (b.memory.created_at, b.memory.id).cmp(&(a.memory.created_at, a.memory.id))
            })
    });
}
