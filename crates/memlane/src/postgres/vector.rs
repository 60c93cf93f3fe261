//! Semantic search through pgvector.
//!
//! Every embedding is stored as `real[]` (`embedding`, the record of truth, exact to the bit) with its model's name;
//! where the `vector` extension is present, a generated column `embedding_vec` holds it as a pgvector value. Vectors
//! live in *spaces*, one per (model, dimension): the first write of a space registers it
//! (`memlane_ensure_vector_space`), which makes a partial HNSW index (cosine distance) over that space's rows only,
//! so vectors of different models or dimensions are never compared.
//!
//! A semantic search ranks the live memories of the query's scope and filter that have a vector of the query's model
//! and dimension by cosine similarity (`1 - (a <=> b)`, clamped to [0, 1]), best first, ties newest first. The SQL
//! orders by the distance alone, so that the HNSW index can serve the order when the scope is large (a small scope
//! is ranked exactly through the tenant's index: the planner picks). It runs in a transaction that raises
//! `hnsw.ef_search` to the limit and, with pgvector 0.8 or later, turns on `hnsw.iterative_scan = strict_order`, so
//! that scope and filter conditions do not starve the index scan. When nothing matches and the tenant's vectors are
//! all of other models or dimensions, the query is invalid input
//! (a mismatch is an error, not an empty answer).

use std::collections::HashSet;
use std::sync::Mutex;

use deadpool_postgres::Client;
use memlane_core::{Embedding, Error, Limits, Result, Scored, SearchQuery, Timestamp};

use super::error::map;
use super::read::scoped;
use super::rows::{from_row, COLUMNS_VEC, NCOLUMNS};
use super::sql::{Param, Where};

/// The spaces this process has registered, so that a write registers a space once (bounded: cleared when full).
const KNOWN_SPACES: usize = 1024;

/// pgvector as this store uses it.
#[derive(Debug)]
pub(crate) struct Vectors {
    /// The extension's version.
    pub(crate) version: String,
    iterative_scan: bool,
    max_indexes: i32,
    known: Mutex<HashSet<(String, usize)>>,
}

impl Vectors {
    /// pgvector of `version`, making at most `max_indexes` HNSW indexes.
    pub(crate) fn new(version: String, max_indexes: u32) -> Self {
        Vectors {
            iterative_scan: super::schema::has_iterative_scan(&version),
            version,
            max_indexes: i32::try_from(max_indexes).unwrap_or(i32::MAX),
            known: Mutex::new(HashSet::new()),
        }
    }

    /// Registers the spaces of these embeddings (once each): run before the write that stores them. Making a
    /// space's index may take long on a large table, so it runs without the statement timeout.
    pub(crate) async fn ensure<'a>(
        &self,
        client: &mut Client,
        embeddings: impl IntoIterator<Item = &'a Embedding>,
    ) -> Result<()> {
        let new: Vec<(String, usize)> = {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            let mut new: Vec<(String, usize)> = embeddings
                .into_iter()
                .map(|e| (e.model.clone(), e.dim()))
                .filter(|k| !known.contains(k))
                .collect();
            new.sort();
            new.dedup();
            new
        };
        for (model, dim) in new {
            let d = i32::try_from(dim)
                .map_err(|_| Error::invalid("embedding", "the dimension is too large"))?;
            let tx = client.transaction().await.map_err(map)?;
            tx.batch_execute("SET LOCAL statement_timeout = 0")
                .await
                .map_err(map)?;
            tx.execute(
                "SELECT memlane_ensure_vector_space($1, $2, $3)",
                &[&model, &d, &self.max_indexes],
            )
            .await
            .map_err(map)?;
            tx.commit().await.map_err(map)?;
            let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            if known.len() >= KNOWN_SPACES {
                known.clear();
            }
            known.insert((model, dim));
        }
        Ok(())
    }

    /// Semantic search with the query's embedding.
    pub(crate) async fn search(
        &self,
        client: &mut Client,
        q: &SearchQuery,
        limits: &Limits,
        now: Timestamp,
    ) -> Result<Vec<Scored>> {
        let e = query_vector(q.embedding.as_ref(), limits)?;
        let d = e.dim();
        let mut w: Where = scoped(&q.scope, q.filter.as_ref(), now);
        let model = w.param(Param::Text(e.model.clone()));
        // The dimension is memlane's own integer (a type modifier cannot be a parameter), never caller text.
        w.and(&format!(
            "m.embedding_model = {model} AND m.embedding_dim = {d}"
        ));
        let qv = w.param(Param::Reals(e.vector.clone()));
        let limit = w.param(Param::Int(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        let sql = format!(
            "SELECT {COLUMNS_VEC}, (m.embedding_vec::vector({d}) <=> {qv}::vector({d}))::float8 AS distance \
             FROM memlane_memories m WHERE {} ORDER BY distance LIMIT {limit}",
            w.sql
        );
        // `ORDER BY distance` alone, so that the HNSW index can give the order; ties are put newest first below.
        let ef = q.limit.clamp(40, 1000);
        let mut setup = format!("SET LOCAL hnsw.ef_search = {ef};");
        if self.iterative_scan {
            setup.push_str(" SET LOCAL hnsw.iterative_scan = strict_order;");
        }
        let tx = client.transaction().await.map_err(map)?;
        tx.batch_execute(&setup).await.map_err(map)?;
        let rows = tx.query_typed(&sql, &w.typed()).await.map_err(map)?;
        let mut hits = Vec::with_capacity(rows.len());
        for row in &rows {
            let distance: Option<f64> = row.try_get(NCOLUMNS).map_err(map)?;
            let Some(distance) = distance.filter(|d| !d.is_nan()) else {
                continue;
            };
            hits.push(Scored {
                memory: from_row(row)?,
                score: (1.0 - distance).clamp(0.0, 1.0) as f32,
            });
        }
        if hits.is_empty() {
            check_space(&tx, &q.scope.tenant, e, now).await?;
        }
        tx.commit().await.map_err(map)?;
        hits.sort_by(|a, b| {
            b.score.total_cmp(&a.score).then_with(|| {
                (b.memory.created_at, b.memory.id).cmp(&(a.memory.created_at, a.memory.id))
            })
        });
        let min = q.min_score.unwrap_or(0.0);
        Ok(hits.into_iter().filter(|s| s.score >= min).collect())
    }
}

/// Fails when the tenant has live vectors, none of them of the query's model and dimension.
async fn check_space(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: &str,
    e: &Embedding,
    now: Timestamp,
) -> Result<()> {
    let rows = tx
        .query(
            "SELECT embedding_model, embedding_dim FROM memlane_memories \
             WHERE tenant = $1 AND embedding_model IS NOT NULL AND (expires_ms IS NULL OR expires_ms > $2) \
             GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 5",
            &[&tenant, &now.as_millis()],
        )
        .await
        .map_err(map)?;
    let spaces = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<(String, i32)>, tokio_postgres::Error>>()
        .map_err(map)?;
    let dim = i32::try_from(e.dim()).unwrap_or(i32::MAX);
    if spaces.is_empty() || spaces.iter().any(|(m, d)| *m == e.model && *d == dim) {
        return Ok(());
    }
    let stored: Vec<String> = spaces
        .iter()
        .map(|(m, d)| format!("{m} ({d} dimensions)"))
        .collect();
    Err(Error::invalid(
        "embedding",
        format!(
            "the query's vector is of model {} ({} dimensions), but the stored vectors are of {}: embed the query \
             with the same model",
            e.model,
            e.dim(),
            stored.join(", ")
        ),
    ))
}

/// Checks the query's embedding: present, non-empty, finite, not zero, within the dimension limit.
fn query_vector<'a>(e: Option<&'a Embedding>, limits: &Limits) -> Result<&'a Embedding> {
    let e = e.ok_or_else(|| {
        Error::invalid(
            "embedding",
            "semantic search needs the query's embedding: give one, or open the store with an embedder",
        )
    })?;
    if e.model.is_empty() || e.model.chars().any(char::is_control) {
        return Err(Error::invalid(
            "embedding.model",
            "must be a non-empty name without control characters",
        ));
    }
    if e.vector.is_empty() || e.vector.iter().any(|x| !x.is_finite()) {
        return Err(Error::invalid(
            "embedding",
            "the query vector must be non-empty and finite",
        ));
    }
    if e.vector.len() > limits.max_dimension {
        return Err(Error::too_large(
            "embedding",
            e.vector.len() * 4,
            limits.max_dimension * 4,
        ));
    }
    if e.vector.iter().all(|x| *x == 0.0) {
        return Err(Error::invalid("embedding", "the query vector is zero"));
    }
    Ok(e)
}
