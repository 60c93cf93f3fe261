//! mem0: the JSON its `Memory.get_all()` (and the self-hosted server's `GET /memories`) returns.
//!
//! Accepted shapes: `{"results": [item, ...]}` (mem0 1.x, with or without `"relations"`), a bare `[item, ...]`
//! (older versions), or one item per line (JSONL; problems are then reported by line number).
//!
//! | mem0 | memlane |
//! |---|---|
//! | `id` | `id` (the same UUID; a non-UUID id gets a stable derived one) and `metadata.mem0_id` |
//! | `memory` (or `text`, `data`) | `content` |
//! | `hash` | `metadata.mem0_hash` (memlane recomputes its own `content_hash`) |
//! | `metadata` | `metadata` (its keys, unchanged) |
//! | `user_id`, `agent_id`, `run_id` | `scope.user`, `scope.agent`, `scope.session` |
//! | `actor_id`, `role`, `categories` | `metadata.mem0_actor_id`, `metadata.mem0_role`, `metadata.mem0_categories` |
//! | `created_at`, `updated_at` | `created_at`, `updated_at` (offsets honoured; none means UTC) |
//! | `expiration_date` | `expires_at` (records already expired are left out and counted) |
//! | anything else (`score`, ...) | dropped, and listed in the report's `unmapped` |
//!
//! Every memory is a `fact` (mem0 stores extracted facts), in the importing tenant.

use serde_json::{Map, Value};

use super::{derived_id, parse_time, Parsed};
use memlane_core::{Kind, NewMemory, Scope, Timestamp};

/// The format's name.
pub const FORMAT: &str = "mem0";

/// Reads mem0's `get_all` output (any accepted shape) into memories of `tenant`.
pub fn parse(input: &str, tenant: &str) -> Parsed {
    let mut out = Parsed::default();
    let trimmed = input.trim_start();
    let whole: Option<Value> = if trimmed.starts_with('[') || trimmed.starts_with('{') {
        serde_json::from_str(input).ok()
    } else {
        None
    };
    let now = Timestamp::now();
    match whole {
        Some(Value::Object(mut o)) if o.contains_key("results") => {
            match o.remove("results") {
                Some(Value::Array(items)) => {
                    for (i, item) in items.into_iter().enumerate() {
                        one(&mut out, format!("results[{i}]"), item, tenant, now);
                    }
                }
                _ => out.problem("results", "is not an array"),
            }
            for k in o.keys() {
                out.unmapped(k);
            }
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.into_iter().enumerate() {
                one(&mut out, format!("[{i}]"), item, tenant, now);
            }
        }
        // A single object without "results" is one item (JSONL of one line); anything else is read line by line.
        _ => {
            for (i, line) in input.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let at = format!("line {}", i + 1);
                match serde_json::from_str::<Value>(line) {
                    Ok(item) => one(&mut out, at, item, tenant, now),
                    Err(e) => out.problem(at, format!("not JSON: {e}")),
                }
            }
        }
    }
    out
}

fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Maps one item; a problem is recorded at `at` when it cannot be.
fn one(out: &mut Parsed, at: String, item: Value, tenant: &str, now: Timestamp) {
    let Value::Object(o) = item else {
        return out.problem(at, "not a JSON object");
    };
    let Some(content) = ["memory", "text", "data"]
        .iter()
        .find_map(|k| text(&o, k))
        .filter(|c| !c.trim().is_empty())
    else {
        return out.problem(at, "no memory text (\"memory\")");
    };
    let mut metadata = match o.get("metadata") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return out.problem(at, "\"metadata\" is not an object"),
    };
    let name = |k: &str| -> Option<String> { text(&o, k).filter(|v| !v.is_empty()) };
    let scope = Scope {
        tenant: tenant.to_owned(),
        user: name("user_id"),
        agent: name("agent_id"),
        session: name("run_id"),
    };
    if let Err(e) = scope.validate() {
        return out.problem(at, e.to_string());
    }
    let mut m = NewMemory::new(scope, content).kind(Kind::Fact);
    if let Some(id) = o.get("id").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }) {
        m.id = Some(derived_id(FORMAT, &id));
        metadata.insert("mem0_id".into(), Value::String(id));
    }
    if let Some(h) = text(&o, "hash") {
        metadata.insert("mem0_hash".into(), Value::String(h));
    }
    for k in ["actor_id", "role", "categories"] {
        if let Some(v) = o.get(k).filter(|v| !v.is_null()) {
            metadata.insert(format!("mem0_{k}"), v.clone());
        }
    }
    let time = |k: &str| -> Result<Option<Timestamp>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_time(s)
                .map(Some)
                .ok_or_else(|| format!("\"{k}\" {s:?} is not a timestamp")),
            Some(_) => Err(format!("\"{k}\" is not a string")),
        }
    };
    let (created, updated, expires) = match (
        time("created_at"),
        time("updated_at"),
        time("expiration_date"),
    ) {
        (Ok(c), Ok(u), Ok(e)) => (c, u, e),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return out.problem(at, e),
    };
    if let Some(e) = expires {
        if e <= now {
            out.expired += 1;
            return;
        }
        m.expires_at = Some(e);
    }
    m.created_at = created;
    m.updated_at = match (created, updated) {
        (Some(c), Some(u)) => Some(u.max(c)),
        (_, u) => u,
    };
    m.metadata = metadata;
    for k in o.keys() {
        let known = matches!(
            k.as_str(),
            "id" | "memory"
                | "text"
                | "data"
                | "hash"
                | "metadata"
                | "user_id"
                | "agent_id"
                | "run_id"
                | "actor_id"
                | "role"
                | "categories"
                | "created_at"
                | "updated_at"
                | "expiration_date"
        );
        if !known {
            out.unmapped(k);
        }
    }
    out.memories.push(m);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_results_document() {
        let doc = r#"{"results": [
            {"id": "0b5d2c1e-6a4e-4c33-8d7c-1f2e3d4c5b6a", "memory": "Likes tea", "hash": "abc",
             "metadata": {"source": "chat"}, "created_at": "2024-07-20T02:34:56.123456-07:00",
             "updated_at": null, "user_id": "alice", "run_id": "r1", "score": 0.3},
            {"id": "x", "memory": ""},
            {"id": "y", "memory": "gone", "expiration_date": "2001-01-01"}
        ], "relations": []}"#;
        let p = parse(doc, "acme");
        assert_eq!(p.memories.len(), 1);
        let m = &p.memories[0];
        assert_eq!(m.content, "Likes tea");
        assert_eq!(m.scope.user.as_deref(), Some("alice"));
        assert_eq!(m.scope.session.as_deref(), Some("r1"));
        assert_eq!(m.metadata["source"], "chat");
        assert_eq!(m.metadata["mem0_hash"], "abc");
        assert_eq!(
            m.id.map(|i| i.to_string()).as_deref(),
            Some("0b5d2c1e-6a4e-4c33-8d7c-1f2e3d4c5b6a")
        );
        assert_eq!(
            m.created_at.map(Timestamp::as_millis),
            Some(1_721_468_096_123)
        );
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].at, "results[1]");
        assert_eq!(p.expired, 1);
        assert_eq!(p.unmapped.get("score"), Some(&1));
        assert_eq!(p.unmapped.get("relations"), Some(&1));
    }

    #[test]
    fn reports_bad_lines_by_number() {
        let p = parse("{\"memory\": \"a\"}\nnot json\n\n{\"memory\": 5}\n", "t");
        assert_eq!(p.memories.len(), 1);
        let at: Vec<&str> = p.problems.iter().map(|p| p.at.as_str()).collect();
        assert_eq!(at, vec!["line 2", "line 4"]);
    }
}
