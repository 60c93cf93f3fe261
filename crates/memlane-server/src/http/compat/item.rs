//! memlane's memories in mem0's shapes: the memory item (`id`, `memory`, `hash`, `metadata`, `created_at`,
//! `updated_at`, `user_id`/`agent_id`/`run_id`, ...) and a memory's history.
//!
//! The mapping is the importer's (`memlane::compat::mem0`) read backwards: scope `user`/`agent`/`session` are
//! `user_id`/`agent_id`/`run_id`; metadata keys `mem0_role`, `mem0_actor_id`, `mem0_categories` (written by the
//! compat routes and the importer) come back as `role`, `actor_id`, `categories`; `hash` is the imported
//! `mem0_hash` when there is one, memlane's content hash otherwise; an expiry is mem0's `expiration_date` (the
//! last day the memory lives).

use memlane::{Memory, Timestamp};
use serde_json::{json, Map, Value};

/// Metadata keys that hold mem0 fields, and the fields they are shown as.
pub(crate) const PROMOTED: &[(&str, &str)] = &[
    ("mem0_role", "role"),
    ("mem0_actor_id", "actor_id"),
    ("mem0_categories", "categories"),
];

/// Metadata keys that are bookkeeping of the importer, never shown.
const HIDDEN: &[&str] = &["mem0_hash", "mem0_id"];

/// A memory as mem0's `Memory.get` returns it.
pub(crate) fn item(m: &Memory) -> Value {
    let mut meta = m.metadata.clone();
    let hash = match meta.get("mem0_hash") {
        Some(Value::String(h)) => h.clone(),
        _ => m.content_hash.clone(),
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(m.id.to_string()));
    out.insert("memory".into(), json!(m.content));
    out.insert("hash".into(), json!(hash));
    out.insert("created_at".into(), json!(m.created_at.to_string()));
    out.insert("updated_at".into(), json!(m.updated_at.to_string()));
    for (key, field) in [
        ("user_id", &m.scope.user),
        ("agent_id", &m.scope.agent),
        ("run_id", &m.scope.session),
    ] {
        if let Some(v) = field {
            out.insert(key.into(), json!(v));
        }
    }
    for (stored, shown) in PROMOTED {
        if let Some(v) = meta.remove(*stored) {
            out.insert((*shown).into(), v);
        }
    }
    if let Some(e) = m.expires_at {
        out.insert("expiration_date".into(), json!(expiration_date(e)));
    }
    for k in HIDDEN {
        meta.remove(*k);
    }
    out.insert(
        "metadata".into(),
        if meta.is_empty() {
            Value::Null
        } else {
            Value::Object(meta)
        },
    );
    Value::Object(out)
}

/// A search result: the item and its `score`.
pub(crate) fn scored(m: &Memory, score: f32) -> Value {
    let mut v = item(m);
    v["score"] = json!(score);
    v
}

/// The last day (UTC, `YYYY-MM-DD`) before `expires_at`: mem0's `expiration_date`.
fn expiration_date(expires_at: Timestamp) -> String {
    let last = Timestamp::from_millis(expires_at.as_millis().saturating_sub(1));
    last.to_string().chars().take(10).collect()
}

/// mem0's `expiration_date` (`YYYY-MM-DD`, the last day the memory lives) as memlane's expiry: midnight UTC after it.
pub(crate) fn expires_at(field: &str, date: &str) -> Result<Timestamp, memlane::Error> {
    let day = crate::config::parse_date(field, date).map_err(|_| {
        memlane::Error::invalid(
            field,
            format!("{date:?} is not a date in mem0's form YYYY-MM-DD"),
        )
    })?;
    if date.trim().len() != 10 {
        return Err(memlane::Error::invalid(
            field,
            format!("{date:?} is not a date in mem0's form YYYY-MM-DD"),
        ));
    }
    Ok(day.plus(std::time::Duration::from_secs(86_400)))
}

/// A memory's history as mem0's `Memory.history` gives it: memlane keeps no past contents, so it is the `ADD`
/// (the memory's creation, with today's content as `new_memory`) and, when the memory was changed since, one
/// `UPDATE` at its last change whose `old_memory` is `null` (unknown).
pub(crate) fn history(m: &Memory) -> Value {
    let id = m.id.to_string();
    let entry = |event: &str, at: Timestamp, seq: u64| {
        json!({
            "id": uuid::Uuid::from_u128(m.id.as_u128().wrapping_add(u128::from(seq))).to_string(),
            "memory_id": id,
            "old_memory": Value::Null,
            "new_memory": m.content,
            "event": event,
            "created_at": at.to_string(),
            "updated_at": Value::Null,
            "is_deleted": false,
            "actor_id": m.metadata.get("mem0_actor_id").cloned().unwrap_or(Value::Null),
            "role": m.metadata.get("mem0_role").cloned().unwrap_or(Value::Null),
        })
    };
    let mut out = vec![entry("ADD", m.created_at, 1)];
    if m.version > 1 {
        out.push(entry("UPDATE", m.updated_at, m.version));
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiration_dates_round_trip() {
        let e = expires_at("expiration_date", "2031-03-04").expect("date");
        assert_eq!(e.to_string(), "2031-03-05T00:00:00.000Z");
        assert_eq!(expiration_date(e), "2031-03-04");
        assert!(expires_at("expiration_date", "2031-03-04T00:00:00Z").is_err());
        assert!(expires_at("expiration_date", "tomorrow").is_err());
    }
}
