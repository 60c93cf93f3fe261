//! Re-embedding an embedded store with another model: a shadow index, then an atomic cutover.
//!
//! 1. **Shadow**: the new vectors are computed in batches into the table `reindex_shadow` (rowid, content hash,
//!    model, vector) while the store keeps serving reads and writes with its current vectors and model. The
//!    target model is recorded in `settings` (`reindex_model`), so an interrupted re-index resumes where it
//!    stopped (rows already in the shadow with an unchanged content hash are not embedded again); starting one
//!    for another model needs `restart`.
//! 2. **Catch-up**: rows added, or whose content changed, since their shadow vector was made are embedded again,
//!    until none are left.
//! 3. **Cutover**, in one write transaction (under the writer lock): a last catch-up, then every row's vector and
//!    model are replaced from the shadow, the store is pinned to the new model, and the shadow is dropped. Readers
//!    see either every old vector or every new one. The old vectors are dropped only by this transaction.
//!
//! The process that re-indexes updates its in-RAM vectors after the cutover; another process that has the store
//! open (a server) keeps its old model and vectors in RAM until it reopens the store, and its embedding layer must
//! be given the new model too: restart it after the cutover.

use std::sync::Arc;

use memlane_core::{Embedder, Embedding, Error, Result};
use rusqlite::{params, Connection, OptionalExtension};

use super::error::{join, map, pool, NAME};
use super::EmbeddedStore;

/// Rows embedded per batch.
const BATCH: usize = 128;

/// Options of [`EmbeddedStore::reindex`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ReindexOptions {
    /// Discard a shadow index left by an interrupted re-index to another model, instead of refusing.
    pub restart: bool,
}

/// What a re-index did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReindexReport {
    /// The new model.
    pub model: String,
    /// Rows embedded by this run (resumed rows are not counted again).
    pub embedded: u64,
    /// Rows whose new vector was already in the shadow from an interrupted run.
    pub resumed: u64,
    /// Rows with a vector of the new model after the cutover.
    pub total: u64,
}

/// Called after each batch with (rows in the shadow, rows in the store).
pub type ReindexProgress = Box<dyn Fn(u64, u64) + Send>;

impl EmbeddedStore {
    /// Re-embeds every memory with `embedder` (see the module docs). Blocking work runs on a blocking thread.
    pub async fn reindex(
        &self,
        embedder: Arc<dyn Embedder>,
        opts: ReindexOptions,
        progress: ReindexProgress,
    ) -> Result<ReindexReport> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let reader = inner.readers.get().map_err(pool)?;
            let model = embedder.model().to_owned();
            let resumed = inner.write(|c| start(c, &model, opts.restart))?;
            let total = || -> Result<u64> {
                reader
                    .query_row("SELECT count(*) FROM memories", [], |r| r.get::<_, i64>(0))
                    .map(|n| n.max(0) as u64)
                    .map_err(map)
            };
            let mut embedded = 0u64;
            loop {
                let todo = stale(&reader, &model, BATCH)?;
                if todo.is_empty() {
                    break;
                }
                let rows = embed(embedder.as_ref(), todo)?;
                embedded += rows.len() as u64;
                inner.write(|c| put(c, &rows))?;
                progress(shadow_count(&reader)?, total()?);
            }
            let vectors = inner.write(|c| {
                let tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(map)?;
                loop {
                    let todo = stale(&tx, &model, BATCH)?;
                    if todo.is_empty() {
                        break;
                    }
                    let rows = embed(embedder.as_ref(), todo)?;
                    embedded += rows.len() as u64;
                    put(&tx, &rows)?;
                }
                let vectors = cutover(&tx, &model)?;
                tx.commit().map_err(map)?;
                Ok(vectors)
            })?;
            let total = reader
                .query_row(
                    "SELECT count(*) FROM memories WHERE embedding_model = ?1",
                    [&model],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n.max(0) as u64)
                .map_err(map)?;
            for (rowid, vector) in vectors {
                let e = Embedding {
                    model: model.clone(),
                    vector,
                };
                inner.vectors.set(rowid, Some(&e));
            }
            Ok(ReindexReport {
                model,
                embedded,
                resumed,
                total,
            })
        })
        .await
        .map_err(join)?
    }
}

/// Creates the shadow (or resumes it); returns how many rows it already holds.
fn start(conn: &mut Connection, model: &str, restart: bool) -> Result<u64> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(map)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS reindex_shadow (
            rowid INTEGER PRIMARY KEY,
            content_hash TEXT NOT NULL,
            embedding BLOB NOT NULL
        )",
    )
    .map_err(map)?;
    let current: Option<String> = tx
        .query_row(
            "SELECT value FROM settings WHERE key = 'reindex_model'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(map)?;
    match current {
        Some(c) if c != model && !restart => {
            return Err(Error::conflict(
                NAME,
                format!(
                    "a re-index to the model {c:?} was interrupted: resume it with that model, or restart with \
                     {model:?} (memlane reindex --restart)"
                ),
            ))
        }
        Some(c) if c == model => {}
        _ => {
            tx.execute("DELETE FROM reindex_shadow", []).map_err(map)?;
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('reindex_model', ?1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [model],
            )
            .map_err(map)?;
        }
    }
    let n = shadow_count(&tx)?;
    tx.commit().map_err(map)?;
    Ok(n)
}

fn shadow_count(conn: &Connection) -> Result<u64> {
    conn.query_row("SELECT count(*) FROM reindex_shadow", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n.max(0) as u64)
    .map_err(map)
}

/// Up to `limit` rows not yet embedded with `model` and without a current shadow vector (none yet, or made for
/// other content): rowid, hash, content.
fn stale(conn: &Connection, model: &str, limit: usize) -> Result<Vec<(i64, String, String)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT m.rowid, m.content_hash, m.content FROM memories m \
             LEFT JOIN reindex_shadow s ON s.rowid = m.rowid \
             WHERE (s.rowid IS NULL OR s.content_hash <> m.content_hash) \
             AND (m.embedding_model IS NULL OR m.embedding_model <> ?2) \
             ORDER BY m.rowid LIMIT ?1",
        )
        .map_err(map)?;
    let rows = stmt
        .query_map(params![limit as i64, model], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(map)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map)
}

/// The new vectors of these rows: (rowid, content hash, vector).
fn embed(
    embedder: &dyn Embedder,
    rows: Vec<(i64, String, String)>,
) -> Result<Vec<(i64, String, Vec<f32>)>> {
    let texts: Vec<&str> = rows.iter().map(|(_, _, c)| c.as_str()).collect();
    let vectors = embedder.embed(&texts)?;
    if vectors.len() != rows.len() {
        return Err(Error::internal(
            NAME,
            format!(
                "the embedder returned {} vectors for {} texts",
                vectors.len(),
                rows.len()
            ),
            None,
        ));
    }
    Ok(rows
        .into_iter()
        .zip(vectors)
        .map(|((rowid, hash, _), v)| (rowid, hash, v))
        .collect())
}

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Stores shadow vectors.
fn put(conn: &Connection, rows: &[(i64, String, Vec<f32>)]) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO reindex_shadow (rowid, content_hash, embedding) VALUES (?1, ?2, ?3) \
             ON CONFLICT (rowid) DO UPDATE SET content_hash = excluded.content_hash, embedding = excluded.embedding",
        )
        .map_err(map)?;
    for (rowid, hash, v) in rows {
        stmt.execute(params![rowid, hash, blob(v)]).map_err(map)?;
    }
    Ok(())
}

/// Replaces every vector from the shadow, pins the model, drops the shadow; returns the new vectors by rowid.
fn cutover(conn: &Connection, model: &str) -> Result<Vec<(i64, Vec<f32>)>> {
    conn.execute(
        "UPDATE memories SET embedding_model = ?1, embedding = s.embedding \
         FROM reindex_shadow s WHERE memories.rowid = s.rowid",
        [model],
    )
    .map_err(map)?;
    let mut stmt = conn
        .prepare("SELECT m.rowid, m.embedding FROM memories m JOIN reindex_shadow s ON s.rowid = m.rowid")
        .map_err(map)?;
    let rows = stmt
        .query_map([], |r| {
            let blob: Vec<u8> = r.get(1)?;
            let v = blob
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Ok((r.get::<_, i64>(0)?, v))
        })
        .map_err(map)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(map)?;
    drop(stmt);
    conn.execute_batch(
        "DROP TABLE reindex_shadow; DELETE FROM settings WHERE key = 'reindex_model';",
    )
    .map_err(map)?;
    conn.execute(
        "INSERT INTO settings (key, value) VALUES ('embedding_model', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [model],
    )
    .map_err(map)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::EmbeddedConfig;
    use memlane_core::{
        AddOptions, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchMode, SearchQuery,
    };
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A toy model: 2 dimensions, `cat` texts on one axis; counts its calls.
    #[derive(Debug)]
    struct Toy {
        name: &'static str,
        calls: AtomicUsize,
        fail_after: usize,
    }

    impl Embedder for Toy {
        fn model(&self) -> &str {
            self.name
        }
        fn dimension(&self) -> usize {
            2
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
            if self.calls.fetch_add(1, Ordering::SeqCst) >= self.fail_after {
                return Err(Error::unavailable("toy", "interrupted", None));
            }
            Ok(texts
                .iter()
                .map(|t| {
                    if t.contains("cat") {
                        vec![1.0, 0.0]
                    } else {
                        vec![0.0, 1.0]
                    }
                })
                .collect())
        }
    }

    fn toy(name: &'static str, fail_after: usize) -> Arc<Toy> {
        Arc::new(Toy {
            name,
            calls: AtomicUsize::new(0),
            fail_after,
        })
    }

    #[tokio::test]
    async fn reindexes_resumes_and_cuts_over() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::internal("test", e.to_string(), None))?;
        let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path())).await?;
        let s = Scope::tenant("t");
        let old = |i: usize| Embedding {
            model: "old".into(),
            vector: vec![0.5, 0.5, i as f32],
        };
        let batch = (0..300)
            .map(|i| {
                let text = if i % 2 == 0 { "a cat" } else { "a dog" };
                NewMemory::new(s.clone(), format!("{text} {i}")).embedding(old(i))
            })
            .collect();
        store.add(batch, AddOptions { dedup: Some(false) }).await?;
        // Interrupted after two batches: searches still use the old model.
        let broken = toy("new", 2);
        let err = store
            .reindex(broken, ReindexOptions::default(), Box::new(|_, _| {}))
            .await;
        assert!(err.is_err());
        let q = SearchQuery::new(s.clone(), "x")
            .mode(SearchMode::Semantic)
            .limit(1);
        let mut old_q = q.clone();
        old_q.embedding = Some(old(0));
        assert_eq!(store.search(&old_q).await?.len(), 1, "the old index serves");
        // Another model is refused while one is half done.
        let other = store
            .reindex(
                toy("other", 99),
                ReindexOptions::default(),
                Box::new(|_, _| {}),
            )
            .await;
        assert!(matches!(other, Err(Error::Conflict { .. })), "{other:?}");
        // A write during the re-index is caught up.
        store.add_one(NewMemory::new(s.clone(), "late cat")).await?;
        let done = store
            .reindex(
                toy("new", 99),
                ReindexOptions::default(),
                Box::new(|_, _| {}),
            )
            .await?;
        assert_eq!(done.resumed, 2 * BATCH as u64);
        assert_eq!(done.total, 301);
        assert_eq!(done.embedded, 301 - 2 * BATCH as u64);
        let mut new_q = q.clone().limit(200);
        new_q.embedding = Some(Embedding {
            model: "new".into(),
            vector: vec![1.0, 0.0],
        });
        let hits = store.search(&new_q).await?;
        assert!(hits[0].memory.content.contains("cat"));
        let all = store.list_all(&s, None).await?;
        assert!(all
            .iter()
            .all(|m| m.embedding.as_ref().is_some_and(|e| e.model == "new")));
        // Reopened, the store is pinned to the new model.
        drop(store);
        let config = EmbeddedConfig::new(dir.path());
        let reopened = EmbeddedStore::open(config).await?;
        assert_eq!(reopened.search(&new_q).await?.len(), hits.len());
        Ok(())
    }
}
