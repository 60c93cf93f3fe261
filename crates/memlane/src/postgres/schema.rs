//! The versioned schema, applied at start-up, and the detection of pgvector.
//!
//! Migrations are SQL files compiled into memlane (`migrations/postgres/*.sql`). Each is applied once, in order, in
//! one transaction that also records it in `memlane_schema_migrations` (version, name, time). The transaction first
//! takes a transaction-level advisory lock, so several memlane servers starting at once apply each migration exactly
//! once: the others wait, then find it recorded. Migrations marked `vector` are applied only when the `vector`
//! extension is there. A database migrated by a newer memlane (an unknown version recorded) is refused.

use deadpool_postgres::Client;
use memlane_core::{Error, Result};

use super::config::PgVector;
use super::error::{map, NAME};

/// The advisory lock key that serializes migrations (and the creation of the extension) across servers.
const MIGRATION_LOCK: i64 = 7_395_851_042_360_861_000;

/// One schema change.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
    /// Needs the `vector` extension.
    vector: bool,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "memories",
        sql: include_str!("../../migrations/postgres/0001_memories.sql"),
        vector: false,
    },
    Migration {
        version: 2,
        name: "outbox",
        sql: include_str!("../../migrations/postgres/0002_outbox.sql"),
        vector: false,
    },
    Migration {
        version: 3,
        name: "metadata_gin",
        sql: include_str!("../../migrations/postgres/0003_metadata_gin.sql"),
        vector: false,
    },
    Migration {
        version: 101,
        name: "pgvector",
        sql: include_str!("../../migrations/postgres/0101_pgvector.sql"),
        vector: true,
    },
];

/// Applies the migrations not applied yet (the `vector` ones only when `vector` is true).
pub(crate) async fn migrate(client: &mut Client, vector: bool) -> Result<()> {
    let tx = client.transaction().await.map_err(map)?;
    // A migration may rewrite a large table: no statement timeout for it.
    tx.batch_execute("SET LOCAL statement_timeout = 0")
        .await
        .map_err(map)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(map)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS memlane_schema_migrations (\
            version integer PRIMARY KEY, \
            name text NOT NULL, \
            applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .map_err(map)?;
    let applied = tx
        .query(
            "SELECT version FROM memlane_schema_migrations ORDER BY version",
            &[],
        )
        .await
        .map_err(map)?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<i32>, _>>()
        .map_err(map)?;
    if let Some(v) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|m| m.version == **v))
    {
        return Err(Error::invalid(
            "store",
            format!("the database has memlane schema version {v}, newer than this memlane knows: upgrade memlane"),
        ));
    }
    for m in MIGRATIONS
        .iter()
        .filter(|m| (vector || !m.vector) && !applied.contains(&m.version))
    {
        tx.batch_execute(m.sql).await.map_err(map)?;
        tx.execute(
            "INSERT INTO memlane_schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await
        .map_err(map)?;
        tracing::info!(
            backend = NAME,
            version = m.version,
            name = m.name,
            "applied schema migration"
        );
    }
    tx.commit().await.map_err(map)
}

/// The version of the `vector` extension to use, if any: the installed one, or the one `CREATE EXTENSION` makes
/// when the server has it available and the user may create it. With [`PgVector::Required`], not having it is an
/// error; with [`PgVector::Auto`], a warning.
pub(crate) async fn detect_vector(client: &mut Client, mode: PgVector) -> Result<Option<String>> {
    if mode == PgVector::Off {
        return Ok(None);
    }
    if let Some(v) = installed_vector(client).await? {
        return Ok(Some(v));
    }
    let available: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')",
            &[],
        )
        .await
        .map_err(map)?
        .try_get(0)
        .map_err(map)?;
    let why = if available {
        match create_vector(client).await {
            Ok(()) => return installed_vector(client).await,
            Err(e) => format!("CREATE EXTENSION vector failed: {e}"),
        }
    } else {
        "the server does not have the pgvector extension".to_owned()
    };
    if mode == PgVector::Required {
        return Err(Error::unsupported(
            NAME,
            format!("semantic_search (pgvector=true, but {why})"),
        ));
    }
    tracing::warn!(backend = NAME, reason = %why, "semantic search is off: pgvector is not available");
    Ok(None)
}

async fn installed_vector(client: &Client) -> Result<Option<String>> {
    let row = client
        .query_opt(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
            &[],
        )
        .await
        .map_err(map)?;
    row.map(|r| r.try_get(0)).transpose().map_err(map)
}

/// The index of a declared metadata key (see [`super::PostgresConfig::index_metadata`]).
pub(crate) fn metadata_index_name(key: &str) -> String {
    format!("memlane_memories_meta_{key}")
}

/// The statement that creates a metadata key's index if it is missing (`CONCURRENTLY`: without blocking writes,
/// outside of any transaction). The key must be a plain name (`key_index::is_plain_key`): DDL takes no parameters.
/// `read::list` matches the index's expression word for word.
pub(crate) fn metadata_index_ddl(key: &str, concurrently: bool) -> String {
    format!(
        "CREATE INDEX {}IF NOT EXISTS {} ON memlane_memories \
         (tenant, user_id, (metadata ->> '{key}'), created_ms DESC, id DESC)",
        if concurrently { "CONCURRENTLY " } else { "" },
        metadata_index_name(key)
    )
}

/// Creates the indexes of the declared metadata keys that are missing, under the migration lock (so that servers
/// starting together do not race on the same `CREATE INDEX`). The keys were checked to be plain names
/// (`PostgresConfig::index_metadata`): they are part of the DDL, which cannot take parameters.
pub(crate) async fn ensure_metadata_indexes(client: &mut Client, keys: &[String]) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let tx = client.transaction().await.map_err(map)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(map)?;
    for key in keys {
        tx.batch_execute(&metadata_index_ddl(key, false))
            .await
            .map_err(map)?;
    }
    tx.commit().await.map_err(map)
}

async fn create_vector(client: &mut Client) -> Result<()> {
    let tx = client.transaction().await.map_err(map)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(map)?;
    tx.batch_execute("CREATE EXTENSION IF NOT EXISTS vector")
        .await
        .map_err(map)?;
    tx.commit().await.map_err(map)
}

/// Checks that the text search configuration exists; returns its canonical name and its OID (bound as a constant
/// in searches, so that the query's `tsquery` is computed once per search, not once per row).
pub(crate) async fn check_text_search_config(client: &Client, name: &str) -> Result<(String, u32)> {
    let sql = "SELECT $1::text::regconfig::text, $1::text::regconfig::oid";
    match client.query_one(sql, &[&name]).await {
        Ok(row) => Ok((row.try_get(0).map_err(map)?, row.try_get(1).map_err(map)?)),
        Err(e) if e.code().is_some_and(|c| c.code() == "42704") => Err(Error::invalid(
            "store option text_search_config",
            format!("PostgreSQL has no text search configuration {name:?} (see \\dF in psql)"),
        )),
        Err(e) => Err(map(e)),
    }
}

/// Whether a pgvector version has iterative index scans (0.8.0 and later).
pub(crate) fn has_iterative_scan(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (0, 8)
}
