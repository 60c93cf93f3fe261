//! The embedded store's vectors in RAM, for semantic and hybrid search.
//!
//! Every stored embedding is also held here, keyed by the row's `rowid`, with its model. The writer keeps it in
//! step after each commit (the database stays the record of truth; at open the map is loaded from it). Semantic
//! search asks SQL for the rowids that pass scope, expiry and filter (indexes do that part), then scores exactly
//! those vectors: an exact scan, so recall is 1.0 whatever the filter keeps.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use memlane_core::{Embedding, Memory, Result};
use rusqlite::Connection;

use super::error::map;

/// One stored vector.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) model: Arc<str>,
    pub(crate) vector: Box<[f32]>,
}

/// The vectors of the store, by rowid.
#[derive(Debug, Default)]
pub(crate) struct Vectors {
    by_row: RwLock<HashMap<i64, Stored>>,
    models: RwLock<Vec<Arc<str>>>,
}

impl Vectors {
    /// Loads every stored embedding.
    pub(crate) fn load(conn: &Connection) -> Result<Vectors> {
        let v = Vectors::default();
        let mut stmt = conn
            .prepare("SELECT rowid, embedding_model, embedding FROM memories WHERE embedding IS NOT NULL")
            .map_err(map)?;
        let mut rows = stmt.query([]).map_err(map)?;
        while let Some(r) = rows.next().map_err(map)? {
            let rowid: i64 = r.get(0).map_err(map)?;
            let model: String = r.get(1).map_err(map)?;
            let blob: Vec<u8> = r.get(2).map_err(map)?;
            let vector = blob
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            v.put_raw(rowid, &model, vector);
        }
        Ok(v)
    }

    fn intern(&self, model: &str) -> Arc<str> {
        if let Some(m) = self
            .models
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|m| &***m == model)
        {
            return m.clone();
        }
        let m: Arc<str> = Arc::from(model);
        self.models
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(m.clone());
        m
    }

    fn put_raw(&self, rowid: i64, model: &str, vector: Box<[f32]>) {
        let stored = Stored {
            model: self.intern(model),
            vector: normalized(vector),
        };
        self.by_row
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(rowid, stored);
    }

    /// Records (or clears) the vector of a row after a commit.
    pub(crate) fn set(&self, rowid: i64, e: Option<&Embedding>) {
        match e {
            Some(e) => self.put_raw(rowid, &e.model, e.vector.clone().into_boxed_slice()),
            None => self.remove(&[rowid]),
        }
    }

    /// Forgets rows after a commit deleted them.
    pub(crate) fn remove(&self, rowids: &[i64]) {
        if rowids.is_empty() {
            return;
        }
        let mut map = self.by_row.write().unwrap_or_else(|p| p.into_inner());
        for r in rowids {
            map.remove(r);
        }
    }

    /// Cosine similarity of `query` (normalized here) with each of `rowids` that has a vector of the same model
    /// and dimension; others are left out.
    pub(crate) fn score(&self, model: &str, query: &[f32], rowids: &[i64]) -> Vec<(i64, f32)> {
        let q = normalized(query.to_vec().into_boxed_slice());
        let map = self.by_row.read().unwrap_or_else(|p| p.into_inner());
        rowids
            .iter()
            .filter_map(|r| {
                let s = map.get(r)?;
                (&*s.model == model && s.vector.len() == q.len()).then(|| (*r, dot(&s.vector, &q)))
            })
            .collect()
    }
}

/// The memory's vector as stored, for the writer.
pub(crate) fn of(m: &Memory) -> Option<&Embedding> {
    m.embedding.as_ref()
}

fn normalized(mut v: Box<[f32]>) -> Box<[f32]> {
    let n = dot(&v, &v).sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

/// Dot product in eight lanes, which the compiler turns into SIMD.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}
