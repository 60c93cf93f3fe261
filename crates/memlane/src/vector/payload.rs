//! The payload database: every memory's fields and its vector as given, in SQLite (WAL mode) beside the vector
//! indexes. It is the store's record of truth: a write is acknowledged once its transaction commits here, and the
//! indexes are repaired from it at open.
//!
//! Tables:
//! - `memories (tenant, id, body, vector, vec_index, vec_id)`: `body` is the memory as JSON with an empty vector,
//!   `vector` the vector as little-endian `f32`s, `(vec_index, vec_id)` where it is indexed (NULL when it is not).
//! - `indexes (no, model, dimension)`: one vector index per model and dimension, in the directory `index-<no>`.
//! - `settings (key, value)`: the pinned embedding model.

use std::path::Path;

use memlane_core::{Embedding, Memory, MemoryId, Result};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::config::SyncMode;
use super::error::{corrupt, db};
use super::state::{Entry, VecRef};

/// The payload database's file inside the store's directory.
pub const DB_FILE: &str = "payload.db";

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS memories (
    tenant TEXT NOT NULL,
    id BLOB NOT NULL,
    body TEXT NOT NULL,
    vector BLOB,
    vec_index INTEGER,
    vec_id INTEGER,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS memories_vec ON memories (vec_id) WHERE vec_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS indexes (
    no INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    UNIQUE (model, dimension)
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#;

/// Connection settings: WAL journal, the sync mode, a busy timeout.
pub(crate) fn configure(conn: &Connection, sync: SyncMode) -> rusqlite::Result<()> {
    crate::sqlite::configure_wal(conn, sync, std::time::Duration::from_secs(10))
}

/// Opens the writer connection of the database in `dir` and creates the tables.
pub(crate) fn open_writer(dir: &Path, sync: SyncMode) -> Result<Connection> {
    let conn = Connection::open(dir.join(DB_FILE)).map_err(db)?;
    configure(&conn, sync).map_err(db)?;
    conn.execute_batch(SCHEMA).map_err(db)?;
    Ok(conn)
}

/// Encodes a vector as little-endian `f32`s.
fn encode(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Decodes a vector.
pub(crate) fn decode(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Loads every memory (without vectors) with where its vector is indexed.
pub(crate) fn load_all(conn: &Connection) -> Result<Vec<Entry>> {
    let mut stmt = conn
        .prepare("SELECT body, vec_index, vec_id FROM memories")
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db)? {
        let body: String = r.get(0).map_err(db)?;
        let index: Option<i64> = r.get(1).map_err(db)?;
        let id: Option<i64> = r.get(2).map_err(db)?;
        let memory: Memory = serde_json::from_str(&body).map_err(corrupt)?;
        let vec = match (index, id) {
            (Some(index), Some(id)) => Some(VecRef {
                index: u32::try_from(index).map_err(corrupt)?,
                id: u64::try_from(id).map_err(corrupt)?,
            }),
            _ => None,
        };
        out.push(Entry { memory, vec });
    }
    Ok(out)
}

/// Writes `m` (its vector apart from the body) with where its vector is indexed, replacing any row with its id.
pub(crate) fn put(tx: &Transaction<'_>, m: &Memory, vec: Option<VecRef>) -> Result<()> {
    let mut body = m.clone();
    let vector = body
        .embedding
        .as_mut()
        .map(|e| encode(&std::mem::take(&mut e.vector)));
    let body = serde_json::to_string(&body).map_err(corrupt)?;
    let mut stmt = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO memories (tenant, id, body, vector, vec_index, vec_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db)?;
    stmt.execute(params![
        m.scope.tenant,
        &m.id.as_bytes()[..],
        body,
        vector,
        vec.map(|v| i64::from(v.index)),
        vec.map(|v| v.id as i64),
    ])
    .map_err(db)?;
    Ok(())
}

/// Deletes the row of `id` in `tenant`.
pub(crate) fn remove(tx: &Transaction<'_>, tenant: &str, id: MemoryId) -> Result<()> {
    tx.prepare_cached("DELETE FROM memories WHERE tenant = ?1 AND id = ?2")
        .map_err(db)?
        .execute(params![tenant, &id.as_bytes()[..]])
        .map_err(db)?;
    Ok(())
}

/// The stored vector of `id` in `tenant`, if it has one.
pub(crate) fn vector(conn: &Connection, tenant: &str, id: MemoryId) -> Result<Option<Vec<f32>>> {
    let blob: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT vector FROM memories WHERE tenant = ?1 AND id = ?2")
        .map_err(db)?
        .query_row(params![tenant, &id.as_bytes()[..]], |r| r.get(0))
        .optional()
        .map_err(db)?;
    Ok(blob.flatten().map(|b| decode(&b)))
}

/// Puts the vectors back into memories read from RAM (whose embeddings carry only the model); a memory whose row
/// has gone meanwhile (deleted concurrently) is dropped.
pub(crate) fn fill(conn: &Connection, memories: Vec<Memory>) -> Result<Vec<Memory>> {
    let mut out = Vec::with_capacity(memories.len());
    for mut m in memories {
        if let Some(e) = m.embedding.as_mut() {
            match vector(conn, &m.scope.tenant, m.id)? {
                Some(v) => e.vector = v,
                None => continue,
            }
        }
        out.push(m);
    }
    Ok(out)
}

/// The vector with index id `vec_id` (for repairing an index).
pub(crate) fn vector_by_vec_id(conn: &Connection, vec_id: u64) -> Result<Option<Vec<f32>>> {
    let blob: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT vector FROM memories WHERE vec_id = ?1")
        .map_err(db)?
        .query_row([vec_id as i64], |r| r.get(0))
        .optional()
        .map_err(db)?;
    Ok(blob.flatten().map(|b| decode(&b)))
}

/// The vector indexes recorded: `(no, model, dimension)`.
pub(crate) fn indexes(conn: &Connection) -> Result<Vec<(u32, String, usize)>> {
    let mut stmt = conn
        .prepare("SELECT no, model, dimension FROM indexes ORDER BY no")
        .map_err(db)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for r in rows {
        let (no, model, dim) = r.map_err(db)?;
        out.push((
            u32::try_from(no).map_err(corrupt)?,
            model,
            usize::try_from(dim).map_err(corrupt)?,
        ));
    }
    Ok(out)
}

/// Records a new vector index for `model` and `dim`; returns its number.
pub(crate) fn add_index(conn: &Connection, model: &str, dim: usize) -> Result<u32> {
    conn.execute(
        "INSERT OR IGNORE INTO indexes (model, dimension) VALUES (?1, ?2)",
        params![model, dim as i64],
    )
    .map_err(db)?;
    let no: i64 = conn
        .query_row(
            "SELECT no FROM indexes WHERE model = ?1 AND dimension = ?2",
            params![model, dim as i64],
            |r| r.get(0),
        )
        .map_err(db)?;
    u32::try_from(no).map_err(corrupt)
}

/// The largest vector id in use (0 when none).
pub(crate) fn max_vec_id(conn: &Connection) -> Result<u64> {
    let max: Option<i64> = conn
        .query_row("SELECT MAX(vec_id) FROM memories", [], |r| r.get(0))
        .map_err(db)?;
    Ok(max.and_then(|m| u64::try_from(m).ok()).unwrap_or(0))
}

/// Records the store's embedding model, or refuses `model` when the store holds vectors of another one.
pub(crate) fn pin_model(conn: &mut Connection, model: &str) -> Result<()> {
    crate::sqlite::pin_model(
        super::error::NAME,
        conn,
        model,
        "SELECT model FROM indexes WHERE model <> ?1 LIMIT 1",
    )
}

/// The embedding with its vector taken out (what RAM holds).
pub(crate) fn strip(e: &Embedding) -> Embedding {
    Embedding {
        model: e.model.clone(),
        vector: Vec::new(),
    }
}
