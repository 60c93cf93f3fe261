//! mem0's `filters` in memlane's filter language (docs/filters.md).
//!
//! | mem0 | memlane |
//! |---|---|
//! | `{"user_id": "u"}`, `agent_id`, `run_id` at the top or in a top `AND` | the query's scope (`user`, `agent`, `session`) |
//! | the same inside `AND`/`OR`/`NOT` | conditions on the fields `user`, `agent`, `session` |
//! | `id`, `memory`, `created_at`, `updated_at` | the fields `id`, `content`, `created_at`, `updated_at` |
//! | `role`, `actor_id`, `categories` | `metadata.mem0_role`, `metadata.mem0_actor_id`, `metadata.mem0_categories` |
//! | `{"metadata": {"k": v, ...}}` | `metadata.k` equal to `v`, for each key |
//! | any other key `k` | `metadata.k` |
//! | `v` | `eq v` |
//! | `{"eq"\|"ne"\|"in"\|"nin"\|"gt"\|"gte"\|"lt"\|"lte"\|"contains": v}` | the same operator |
//! | `"*"` | `exists: true` |
//! | `{"AND": [..]}`, `{"OR": [..]}`, `{"NOT": [..]}` (any case) | `and`, `or`, `not` (of the `and` of a list) |
//!
//! Anything else (`icontains`, `app_id`, a value memlane's language refuses, ...) is an error naming it: a filter
//! is never silently dropped.

use memlane::{Filter, Scope};
use serde_json::{json, Map, Value};

use crate::http::error::ApiError;

/// The operators that map one to one.
const OPS: &[&str] = &[
    "eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "contains",
];

/// Splits mem0 `filters` into the scope's fields (set on `scope`) and a memlane filter for the rest.
pub(crate) fn translate(
    filters: &Map<String, Value>,
    scope: &mut Scope,
) -> Result<Option<Filter>, ApiError> {
    let mut rest = Vec::new();
    for (key, value) in filters {
        if hoist(key, value, scope)? {
            continue;
        }
        match (key.to_ascii_uppercase().as_str(), value) {
            // The scope keys of a top-level AND narrow the scope too; the rest stays a condition.
            ("AND", Value::Array(items)) => {
                let mut kept = Vec::new();
                for item in items {
                    let single = item.as_object().filter(|o| o.len() == 1);
                    match single.and_then(|o| o.iter().next()) {
                        Some((k, v)) if hoist(k, v, scope)? => {}
                        _ => kept.push(item.clone()),
                    }
                }
                if !kept.is_empty() {
                    rest.push(condition("filters.AND", key, &Value::Array(kept))?);
                }
            }
            _ => rest.push(condition(&format!("filters.{key}"), key, value)?),
        }
    }
    let json = match rest.len() {
        0 => return Ok(None),
        1 => rest.remove(0),
        _ => json!({ "and": rest }),
    };
    Filter::parse(&json).map(Some).map_err(|e| {
        ApiError::invalid(
            "filters",
            format!("filters cannot be mapped to memlane's filter language: {e}"),
        )
    })
}

/// Sets the scope's field when `key: value` is a plain `user_id`/`agent_id`/`run_id` (true), else false.
fn hoist(key: &str, value: &Value, scope: &mut Scope) -> Result<bool, ApiError> {
    let slot = match key {
        "user_id" => &mut scope.user,
        "agent_id" => &mut scope.agent,
        "run_id" => &mut scope.session,
        _ => return Ok(false),
    };
    let Value::String(s) = value else {
        return Ok(false);
    };
    if s == "*" {
        return Ok(false);
    }
    if slot.as_deref().is_some_and(|old| old != s) {
        return Err(ApiError::invalid(
            format!("filters.{key}"),
            format!("filters.{key} ({s:?}) contradicts another {key} of the request"),
        ));
    }
    *slot = Some(s.clone());
    Ok(true)
}

/// A whole mem0 filter object (an `AND` of its keys).
fn object(path: &str, v: &Value) -> Result<Value, ApiError> {
    let Value::Object(o) = v else {
        return Err(ApiError::invalid(
            path,
            format!("{path} must be an object of conditions"),
        ));
    };
    let mut all = o
        .iter()
        .map(|(k, v)| condition(&format!("{path}.{k}"), k, v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if all.len() == 1 {
        all.remove(0)
    } else {
        json!({ "and": all })
    })
}

/// A list of mem0 filter objects.
fn list(path: &str, v: &Value) -> Result<Vec<Value>, ApiError> {
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| object(&format!("{path}[{i}]"), item))
            .collect(),
        Value::Object(_) => Ok(vec![object(path, v)?]),
        _ => Err(ApiError::invalid(
            path,
            format!("{path} must be a list of filter objects"),
        )),
    }
}

/// The memlane field of mem0 key `key`, or an error for keys memlane has no equivalent of.
fn field(path: &str, key: &str) -> Result<String, ApiError> {
    Ok(match key {
        "user_id" => "user".into(),
        "agent_id" => "agent".into(),
        "run_id" => "session".into(),
        "id" | "created_at" | "updated_at" => key.into(),
        "memory" => "content".into(),
        "role" | "actor_id" | "categories" => format!("metadata.mem0_{key}"),
        "app_id" | "org_id" | "project_id" | "keywords" | "hash" => {
            return Err(ApiError::invalid(
                path,
                format!(
                "{path}: memlane has no equivalent of mem0's {key:?}: remove it from the filters"
            ),
            ))
        }
        other => format!("metadata.{other}"),
    })
}

/// One `key: value` of a mem0 filter object.
fn condition(path: &str, key: &str, value: &Value) -> Result<Value, ApiError> {
    match key.to_ascii_uppercase().as_str() {
        "AND" => return Ok(json!({ "and": list(path, value)? })),
        "OR" => return Ok(json!({ "or": list(path, value)? })),
        "NOT" => {
            let mut items = list(path, value)?;
            let inner = if items.len() == 1 {
                items.remove(0)
            } else {
                json!({ "and": items })
            };
            return Ok(json!({ "not": inner }));
        }
        _ => {}
    }
    if key == "metadata" {
        let Value::Object(o) = value else {
            return Err(ApiError::invalid(
                path,
                format!("{path} must be an object of metadata keys and values"),
            ));
        };
        let all = o
            .iter()
            .map(|(k, v)| predicate(&format!("{path}.{k}"), &format!("metadata.{k}"), v))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(json!({ "and": all }));
    }
    predicate(path, &field(path, key)?, value)
}

/// The condition on memlane field `f` that mem0 value `value` states.
fn predicate(path: &str, f: &str, value: &Value) -> Result<Value, ApiError> {
    match value {
        Value::String(s) if s == "*" => Ok(json!({"field": f, "exists": true})),
        Value::Object(ops) => {
            let mut all = Vec::new();
            for (op, v) in ops {
                if !OPS.contains(&op.as_str()) {
                    return Err(ApiError::invalid(
                        format!("{path}.{op}"),
                        format!(
                            "{path}: the operator {op:?} has no equivalent in memlane (supported: {}, and \"*\")",
                            OPS.join(", ")
                        ),
                    ));
                }
                all.push(json!({"field": f, op.as_str(): v}));
            }
            Ok(match all.len() {
                1 => all.remove(0),
                _ => json!({ "and": all }),
            })
        }
        v => Ok(json!({"field": f, "eq": v})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: Value) -> (Scope, Option<Value>) {
        let mut scope = Scope::tenant("t");
        let f = translate(v.as_object().expect("object"), &mut scope).expect("translates");
        (scope, f.map(|f| f.to_json()))
    }

    #[test]
    fn scope_keys_become_the_scope() {
        let (scope, f) = run(json!({"user_id": "alice", "run_id": "r1"}));
        assert_eq!(scope.user.as_deref(), Some("alice"));
        assert_eq!(scope.session.as_deref(), Some("r1"));
        assert!(f.is_none());
    }

    #[test]
    fn a_top_and_narrows_the_scope() {
        let (scope, f) = run(json!({"AND": [{"user_id": "bob"}, {"n": {"gte": 2}}]}));
        assert_eq!(scope.user.as_deref(), Some("bob"));
        assert_eq!(
            f.expect("a filter"),
            json!({"and": [{"field": "metadata.n", "gte": 2.0}]})
        );
        let mut scope = Scope::tenant("t").with_user("ann");
        let clash = json!({"AND": [{"user_id": "bob"}]});
        assert!(translate(clash.as_object().expect("o"), &mut scope).is_err());
    }

    #[test]
    fn operators_and_logic_map() {
        let (_, f) = run(json!({
            "user_id": "alice",
            "AND": [{"topic": {"in": ["a", "b"]}}, {"score": {"gte": 2, "lt": 9}}],
            "OR": [{"agent_id": "x"}, {"role": "user"}],
            "NOT": [{"memory": {"contains": "secret"}}],
            "source": "*",
            "metadata": {"lang": "en"}
        }));
        let text = f.expect("a filter").to_string();
        for part in [
            r#""field":"metadata.topic""#,
            r#""field":"agent""#,
            r#""field":"metadata.mem0_role""#,
            r#""field":"content""#,
            r#""exists":true"#,
            r#""field":"metadata.lang""#,
            r#""not""#,
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn unmappable_filters_are_errors() {
        for bad in [
            json!({"topic": {"icontains": "x"}}),
            json!({"app_id": "a"}),
            json!({"AND": "nope"}),
            json!({"topic": {"eq": null}}),
            json!({"bad*key": 1}),
        ] {
            let mut scope = Scope::tenant("t");
            assert!(
                translate(bad.as_object().expect("o"), &mut scope).is_err(),
                "{bad}"
            );
        }
    }
}
