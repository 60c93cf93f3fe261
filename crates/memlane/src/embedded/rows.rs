//! Rows ↔ [`Memory`].

use memlane_core::{Embedding, Kind, Memory, Result, Scope, Timestamp};
use rusqlite::types::Value;
use rusqlite::Row;

use super::error::corrupt;

/// The columns every query selects, in the order [`from_row`] reads them (alias `m`).
pub(crate) const COLUMNS: &str = "m.id, m.tenant, m.user_id, m.agent_id, m.session_id, m.kind, m.content, \
     m.metadata, m.embedding_model, m.embedding, m.created_ms, m.updated_ms, m.expires_ms, m.version, \
     m.content_hash, m.rowid";

/// A memory from a row selected with [`COLUMNS`], and its rowid.
pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<(Memory, i64)>> {
    let id: String = row.get(0)?;
    let kind: String = row.get(5)?;
    let metadata: String = row.get(7)?;
    let model: Option<String> = row.get(8)?;
    let blob: Option<Vec<u8>> = row.get(9)?;
    let version: i64 = row.get(13)?;
    let decoded = (|| {
        let id = memlane_core::parse_id(&id).map_err(|_| corrupt(format!("id {id:?}")))?;
        let kind: Kind = kind
            .parse()
            .map_err(|_| corrupt(format!("kind {kind:?}")))?;
        let metadata = match serde_json::from_str(&metadata) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return Err(corrupt(format!("metadata of {id}"))),
        };
        let embedding = match (model, blob) {
            (Some(model), Some(b)) if b.len() % 4 == 0 => Some(Embedding {
                model,
                vector: b
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            }),
            (None, None) => None,
            _ => return Err(corrupt(format!("embedding of {id}"))),
        };
        Ok((id, kind, metadata, embedding))
    })();
    let (id, kind, metadata, embedding) = match decoded {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let m = Memory {
        id,
        scope: Scope {
            tenant: row.get(1)?,
            user: row.get(2)?,
            agent: row.get(3)?,
            session: row.get(4)?,
        },
        kind,
        content: row.get(6)?,
        metadata,
        embedding,
        created_at: Timestamp::from_millis(row.get(10)?),
        updated_at: Timestamp::from_millis(row.get(11)?),
        expires_at: row.get::<_, Option<i64>>(12)?.map(Timestamp::from_millis),
        version: u64::try_from(version).unwrap_or(0),
        content_hash: row.get(14)?,
    };
    Ok(Ok((m, row.get(15)?)))
}

/// The values of a memory for `INSERT INTO memories (`[`INSERT_COLUMNS`]`)`.
pub(crate) fn to_values(m: &Memory) -> Vec<Value> {
    let opt = |s: &Option<String>| s.clone().map(Value::Text).unwrap_or(Value::Null);
    let (model, blob) = match &m.embedding {
        Some(e) => (
            Value::Text(e.model.clone()),
            Value::Blob(e.vector.iter().flat_map(|x| x.to_le_bytes()).collect()),
        ),
        None => (Value::Null, Value::Null),
    };
    vec![
        Value::Text(m.id.to_string()),
        Value::Text(m.scope.tenant.clone()),
        opt(&m.scope.user),
        opt(&m.scope.agent),
        opt(&m.scope.session),
        Value::Text(m.kind.as_str().into()),
        Value::Text(m.content.clone()),
        Value::Text(serde_json::Value::Object(m.metadata.clone()).to_string()),
        model,
        blob,
        Value::Integer(m.created_at.as_millis()),
        Value::Integer(m.updated_at.as_millis()),
        m.expires_at
            .map(|t| Value::Integer(t.as_millis()))
            .unwrap_or(Value::Null),
        Value::Integer(i64::try_from(m.version).unwrap_or(i64::MAX)),
        Value::Text(m.content_hash.clone()),
    ]
}

/// The columns [`to_values`] fills.
pub(crate) const INSERT_COLUMNS: &str =
    "id, tenant, user_id, agent_id, session_id, kind, content, metadata, \
     embedding_model, embedding, created_ms, updated_ms, expires_ms, version, content_hash";
