//! The database file, its settings and its versioned schema.
//!
//! One SQLite database, `memlane.db`, in WAL mode. Schema versions are numbered in `PRAGMA user_version`; each
//! migration runs once, in a transaction, in order.
//!
//! - `memories`: one row per memory; `(tenant, id)` is unique, so tenants never collide.
//! - `settings`: key/value pairs of the store (the embedding model it is pinned to).
//!
//! Versions 1 and 2 also kept `memories_fts`, an FTS5 index of `content` written by triggers, and an index on
//! `(tenant, content_hash)`; version 3 drops both (keyword search scores in RAM, see `text`; dedup candidates come
//! from RAM, see `dedup`). Stores written by older builds open and upgrade in place.

use rusqlite::Connection;

use super::config::SyncMode;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE memories (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    user_id TEXT,
    agent_id TEXT,
    session_id TEXT,
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    metadata TEXT NOT NULL,
    embedding_model TEXT,
    embedding BLOB,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX memories_tenant_id ON memories (tenant, id);
CREATE INDEX memories_tenant_created ON memories (tenant, created_ms, id);
CREATE INDEX memories_user_created ON memories (tenant, user_id, created_ms, id);
CREATE INDEX memories_agent_created ON memories (tenant, agent_id, created_ms, id);
CREATE INDEX memories_session_created ON memories (tenant, session_id, created_ms, id);
CREATE INDEX memories_hash ON memories (tenant, content_hash);
CREATE INDEX memories_expiry ON memories (expires_ms) WHERE expires_ms IS NOT NULL;
CREATE VIRTUAL TABLE memories_fts USING fts5(
    content, content='memories', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END;
CREATE TRIGGER memories_au AFTER UPDATE OF content ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO memories_fts(rowid, content) VALUES (new.rowid, new.content);
END;
"#,
    r#"
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#,
    // Keyword search moved to the text index in RAM (see `text`): the FTS5 table was written on every insert,
    // update and delete and read by nothing. Dedup candidates come from RAM (see `dedup`): the hash index put each
    // insert on a random page of it, three quarters of the pages a batch wrote.
    r#"
DROP TRIGGER IF EXISTS memories_ai;
DROP TRIGGER IF EXISTS memories_ad;
DROP TRIGGER IF EXISTS memories_au;
DROP TABLE IF EXISTS memories_fts;
DROP INDEX IF EXISTS memories_hash;
"#,
];

/// Prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 128;

/// Settings every connection gets.
pub(crate) fn configure(conn: &Connection, sync: SyncMode) -> rusqlite::Result<()> {
    // Room for every statement shape a busy store runs (filters, page sizes, batch sizes); re-preparing a
    // statement costs more than most point reads.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    crate::sqlite::configure_wal(conn, sync, std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -16_000)?;
    Ok(())
}

/// Brings the schema up to date; safe when several processes open the same directory at once (the migration
/// transaction takes SQLite's write lock and re-reads the version under it).
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let target = i as i64 + 1;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if current < target {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", target)?;
        }
        tx.commit()?;
    }
    Ok(())
}

pub(crate) use crate::sqlite::other_model;

/// Records the embedding model of the store, or refuses `model` when the store holds vectors of another one.
pub(crate) fn pin_model(conn: &mut Connection, model: &str) -> memlane_core::Result<()> {
    crate::sqlite::pin_model(
        super::error::NAME,
        conn,
        model,
        "SELECT embedding_model FROM memories WHERE embedding_model IS NOT NULL AND embedding_model <> ?1 LIMIT 1",
    )
}

/// The newest schema version this build knows.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}
