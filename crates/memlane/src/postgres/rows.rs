//! Rows ↔ [`Memory`].

use memlane_core::{Embedding, Error, Kind, Memory, Result, Scope, Timestamp};
use serde_json::Value;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::Row;

use super::error::{corrupt, map};

/// The columns every query selects, in the order [`from_row`] reads them (alias `m`).
pub(crate) const COLUMNS: &str = "m.tenant, m.id, m.user_id, m.agent_id, m.session_id, m.kind, m.content, \
     m.metadata, m.embedding_model, m.embedding, m.created_ms, m.updated_ms, m.expires_ms, m.version, \
     m.content_hash";

/// [`COLUMNS`] with the embedding sent in pgvector's binary form (`vector_send` of the stored `real[]`, the record
/// of truth, cast to `vector`), as a `bytea`, for databases with pgvector. PostgreSQL sends a `real[]` element by element through the float's own output
/// function: about 25 µs of server time per 384-float embedding here, most of a `get` past its round trip and two
/// thirds of a 10-memory `list`; a `vector` goes out in one pass. The values are the same floats, bit for bit
/// (every stored embedding casts: the generated `embedding_vec` column makes the same cast on every write). As a
/// `bytea`, not a `vector`: the driver then needs no lookup of the extension's type in the middle of a query (which
/// deadlocks a `query_typed` whose rows are still arriving).
pub(crate) const COLUMNS_VEC: &str = "m.tenant, m.id, m.user_id, m.agent_id, m.session_id, m.kind, m.content, \
     m.metadata, m.embedding_model, vector_send(m.embedding::vector) AS embedding, m.created_ms, m.updated_ms, m.expires_ms, \
     m.version, m.content_hash";

/// [`COLUMNS`] without the embedding (NULLs in its two places), for a listing that does not want it.
pub(crate) const COLUMNS_NO_EMBEDDING: &str = "m.tenant, m.id, m.user_id, m.agent_id, m.session_id, m.kind, \
     m.content, m.metadata, NULL::text AS embedding_model, NULL::real[] AS embedding, m.created_ms, m.updated_ms, \
     m.expires_ms, m.version, m.content_hash";

/// The columns of a listing: without the embedding when `embeddings` is false, else [`columns`].
pub(crate) fn list_columns(vector: bool, embeddings: bool) -> &'static str {
    if embeddings {
        columns(vector)
    } else {
        COLUMNS_NO_EMBEDDING
    }
}

/// The columns to select: [`COLUMNS_VEC`] when the database has pgvector, else [`COLUMNS`].
pub(crate) fn columns(vector: bool) -> &'static str {
    if vector {
        COLUMNS_VEC
    } else {
        COLUMNS
    }
}

/// An embedding column: a `real[]`, or a `bytea` holding a pgvector `vector`'s binary form (`int2` dimension, `int2`
/// unused, then the floats, all big-endian).
struct Floats(Option<Vec<f32>>);

impl<'a> FromSql<'a> for Floats {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        if *ty == Type::FLOAT4_ARRAY {
            return Ok(Floats(Some(Vec::<f32>::from_sql(ty, raw)?)));
        }
        let (head, body) = raw
            .split_at_checked(4)
            .ok_or("a vector shorter than its header")?;
        let dim = usize::from(u16::from_be_bytes([head[0], head[1]]));
        if body.len() != dim * 4 {
            return Err(format!("a vector of {dim} dimensions in {} bytes", body.len()).into());
        }
        Ok(Floats(Some(
            body.chunks_exact(4)
                .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )))
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Floats(None))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::FLOAT4_ARRAY || *ty == Type::BYTEA
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// How many columns [`COLUMNS`] has: extra columns of a query start here.
pub(crate) const NCOLUMNS: usize = 15;

/// The columns [`values`] fills, `ts_config` last.
pub(crate) const INSERT_COLUMNS: &str = "tenant, id, user_id, agent_id, session_id, kind, content, metadata, \
     embedding_model, embedding, created_ms, updated_ms, expires_ms, version, content_hash, ts_config";

/// The placeholders of [`INSERT_COLUMNS`].
pub(crate) const INSERT_VALUES: &str =
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::text::regconfig";

/// A memory from a row selected with [`COLUMNS`] or [`COLUMNS_VEC`].
pub(crate) fn from_row(row: &Row) -> Result<Memory> {
    let kind: String = row.try_get(5).map_err(map)?;
    let metadata: Value = row.try_get(7).map_err(map)?;
    let model: Option<String> = row.try_get(8).map_err(map)?;
    let vector = row.try_get::<_, Floats>(9).map_err(map)?.0;
    let id = row.try_get(1).map_err(map)?;
    let version: i64 = row.try_get(13).map_err(map)?;
    Ok(Memory {
        id,
        scope: Scope {
            tenant: row.try_get(0).map_err(map)?,
            user: row.try_get(2).map_err(map)?,
            agent: row.try_get(3).map_err(map)?,
            session: row.try_get(4).map_err(map)?,
        },
        kind: kind
            .parse::<Kind>()
            .map_err(|_| corrupt(format!("kind {kind:?} of {id}")))?,
        content: row.try_get(6).map_err(map)?,
        metadata: match metadata {
            Value::Object(m) => m,
            _ => return Err(corrupt(format!("metadata of {id}"))),
        },
        embedding: match (model, vector) {
            (Some(model), Some(vector)) => Some(Embedding { model, vector }),
            (None, None) => None,
            _ => return Err(corrupt(format!("embedding of {id}"))),
        },
        created_at: Timestamp::from_millis(row.try_get(10).map_err(map)?),
        updated_at: Timestamp::from_millis(row.try_get(11).map_err(map)?),
        expires_at: row
            .try_get::<_, Option<i64>>(12)
            .map_err(map)?
            .map(Timestamp::from_millis),
        version: u64::try_from(version)
            .map_err(|_| corrupt(format!("version {version} of {id}")))?,
        content_hash: row.try_get(14).map_err(map)?,
    })
}

/// A memory's column values in the types the driver binds, for [`INSERT_VALUES`] (with `m`'s own fields).
pub(crate) struct Values {
    kind: &'static str,
    metadata: Value,
    model: Option<String>,
    vector: Option<Vec<f32>>,
    created: i64,
    updated: i64,
    expires: Option<i64>,
    version: i64,
}

impl Values {
    /// The values of `m`, after checking that PostgreSQL can store them.
    pub(crate) fn of(m: &Memory) -> Result<Values> {
        check_no_nul(&m.metadata)?;
        Ok(Values {
            kind: m.kind.as_str(),
            metadata: Value::Object(m.metadata.clone()),
            model: m.embedding.as_ref().map(|e| e.model.clone()),
            vector: m.embedding.as_ref().map(|e| e.vector.clone()),
            created: m.created_at.as_millis(),
            updated: m.updated_at.as_millis(),
            expires: m.expires_at.map(Timestamp::as_millis),
            version: i64::try_from(m.version)
                .map_err(|_| Error::invalid("version", format!("{} is too large", m.version)))?,
        })
    }

    /// The parameters `$1..$16` of [`INSERT_VALUES`] for `m` (whose values these are).
    pub(crate) fn params<'a>(
        &'a self,
        m: &'a Memory,
        ts_config: &'a String,
    ) -> [&'a (dyn ToSql + Sync); 16] {
        [
            &m.scope.tenant,
            &m.id,
            &m.scope.user,
            &m.scope.agent,
            &m.scope.session,
            &self.kind,
            &m.content,
            &self.metadata,
            &self.model,
            &self.vector,
            &self.created,
            &self.updated,
            &self.expires,
            &self.version,
            &m.content_hash,
            ts_config,
        ]
    }
}

/// PostgreSQL's `jsonb` cannot hold the NUL character (`\u0000`) in a string or a key.
fn check_no_nul(m: &serde_json::Map<String, Value>) -> Result<()> {
    fn walk(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(a) => a.iter().any(walk),
            Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || walk(v)),
            _ => false,
        }
    }
    if m.iter().any(|(k, v)| k.contains('\0') || walk(v)) {
        return Err(Error::invalid(
            "metadata",
            "must not contain NUL characters (\\u0000): PostgreSQL cannot store them",
        ));
    }
    Ok(())
}
