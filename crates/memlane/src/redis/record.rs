//! A memory as the fields of its Redis hash, and back.
//!
//! | field | value |
//! |---|---|
//! | `version` | decimal |
//! | `kind` | `message`, `fact`, `episode` or `procedure` |
//! | `content`, `content_hash` | text |
//! | `metadata` | the JSON object, as text |
//! | `created_at`, `updated_at`, `expires_at` | ms since the Unix epoch, decimal (`expires_at` only when set) |
//! | `user`, `agent`, `session` | the scope's names, when set (the tenant is in the key) |
//! | `embedding_model`, `embedding` | the model's name, and the vector as little-endian `f32`s (exact) |
//! | `scope` | the exact scope's dedup key: scripts compare scopes by it |
//! | `index` | the footprint: every index entry of the memory (see [`super::keys`]) |

use memlane_core::{Embedding, Kind, Memory, MemoryId, Result, Scope, Timestamp};
use redis::Value;

use super::error::corrupt;
use super::keys::TenantKeys;

/// Fields that a memory may lack; an update deletes those its new state lacks.
pub(crate) const OPTIONAL: [&str; 6] = [
    "expires_at",
    "user",
    "agent",
    "session",
    "embedding_model",
    "embedding",
];

/// The hash fields of `m`, as `field, value` pairs.
pub(crate) fn encode(m: &Memory, keys: &TenantKeys) -> Vec<(&'static str, Vec<u8>)> {
    let mut f: Vec<(&'static str, Vec<u8>)> = vec![
        ("version", m.version.to_string().into_bytes()),
        ("kind", m.kind.as_str().as_bytes().to_vec()),
        ("content", m.content.as_bytes().to_vec()),
        ("content_hash", m.content_hash.as_bytes().to_vec()),
        (
            "metadata",
            serde_json::Value::Object(m.metadata.clone())
                .to_string()
                .into_bytes(),
        ),
        (
            "created_at",
            m.created_at.as_millis().to_string().into_bytes(),
        ),
        (
            "updated_at",
            m.updated_at.as_millis().to_string().into_bytes(),
        ),
        ("scope", keys.dedup(&m.scope).into_bytes()),
        ("index", keys.footprint(m).into_bytes()),
    ];
    if let Some(e) = m.expires_at {
        f.push(("expires_at", e.as_millis().to_string().into_bytes()));
    }
    for (name, v) in [
        ("user", &m.scope.user),
        ("agent", &m.scope.agent),
        ("session", &m.scope.session),
    ] {
        if let Some(v) = v {
            f.push((name, v.as_bytes().to_vec()));
        }
    }
    if let Some(e) = &m.embedding {
        f.push(("embedding_model", e.model.as_bytes().to_vec()));
        f.push((
            "embedding",
            e.vector.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ));
    }
    f
}

/// The optional fields `m` lacks (to delete when it replaces an older state).
pub(crate) fn absent(m: &Memory) -> Vec<&'static str> {
    let present = encode_presence(m);
    OPTIONAL
        .iter()
        .zip(present)
        .filter(|(_, p)| !p)
        .map(|(f, _)| *f)
        .collect()
}

fn encode_presence(m: &Memory) -> [bool; 6] {
    [
        m.expires_at.is_some(),
        m.scope.user.is_some(),
        m.scope.agent.is_some(),
        m.scope.session.is_some(),
        m.embedding.is_some(),
        m.embedding.is_some(),
    ]
}

/// The `field, value` pairs of a hash.
pub(crate) type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// The `field, value` pairs of a hash as Redis returns it (`HGETALL`: a flat array in RESP2, a map in RESP3);
/// `None` when the hash does not exist.
pub(crate) fn pairs(v: Value) -> Result<Option<Fields>> {
    let out: Fields = match v {
        Value::Nil => return Ok(None),
        Value::Map(m) => m
            .into_iter()
            .map(|(k, v)| Ok((bytes(k)?, bytes(v)?)))
            .collect::<Result<_>>()?,
        Value::Array(items) => {
            if items.len() % 2 != 0 {
                return Err(corrupt("a hash reply with an odd number of items"));
            }
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((bytes(k)?, bytes(v)?));
            }
            out
        }
        other => return Err(corrupt(format!("a hash reply of type {other:?}"))),
    };
    Ok((!out.is_empty()).then_some(out))
}

/// The bytes of a string reply.
pub(crate) fn bytes(v: Value) -> Result<Vec<u8>> {
    match v {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.into_bytes()),
        Value::Int(i) => Ok(i.to_string().into_bytes()),
        other => Err(corrupt(format!("expected a string, got {other:?}"))),
    }
}

/// The memory `id` of `tenant` from its hash fields.
pub(crate) fn decode(tenant: &str, id: MemoryId, fields: &Fields) -> Result<Memory> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.as_slice() == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    };
    let text = |name: &str| -> Result<Option<String>> {
        get(name)
            .map(|v| String::from_utf8(v.to_vec()).map_err(|_| corrupt(format!("{name} of {id}"))))
            .transpose()
    };
    let required = |name: &str| -> Result<String> {
        text(name)?.ok_or_else(|| corrupt(format!("memory {id} has no {name}")))
    };
    let num = |name: &str| -> Result<Option<i64>> {
        text(name)?
            .map(|s| s.parse().map_err(|_| corrupt(format!("{name} of {id}"))))
            .transpose()
    };
    let time = |name: &str| -> Result<Timestamp> {
        num(name)?
            .map(Timestamp::from_millis)
            .ok_or_else(|| corrupt(format!("memory {id} has no {name}")))
    };
    let kind: Kind = required("kind")?
        .parse()
        .map_err(|_| corrupt(format!("kind of {id}")))?;
    let metadata = match serde_json::from_str(&required("metadata")?) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(corrupt(format!("metadata of {id}"))),
    };
    let embedding = match (text("embedding_model")?, get("embedding")) {
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
    let version = num("version")?
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| corrupt(format!("version of {id}")))?;
    Ok(Memory {
        id,
        scope: Scope {
            tenant: tenant.to_owned(),
            user: text("user")?,
            agent: text("agent")?,
            session: text("session")?,
        },
        kind,
        content: required("content")?,
        metadata,
        embedding,
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
        expires_at: num("expires_at")?.map(Timestamp::from_millis),
        version,
        content_hash: required("content_hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use memlane_core::NewMemory;
    use serde_json::json;

    #[test]
    fn round_trip_is_exact() {
        let scope = Scope::tenant("t").with_user("Zoë").with_session("s");
        let mut m = NewMemory::new(scope, "Café 🦀")
            .meta("n", 1.0)
            .meta("nested", json!({"a": [1, "two", null]}))
            .embedding(Embedding {
                model: "m".into(),
                vector: vec![0.1, -0.25, 1e-7, f32::MIN_POSITIVE, 12345.678],
            })
            .into_memory(Timestamp::now());
        m.expires_at = Some(Timestamp::from_millis(-3));
        let keys = TenantKeys::new("p", "t");
        let fields: Fields = encode(&m, &keys)
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v))
            .collect();
        assert_eq!(decode("t", m.id, &fields).expect("decode"), m);
        assert_eq!(absent(&m), vec!["agent"]);
    }
}
