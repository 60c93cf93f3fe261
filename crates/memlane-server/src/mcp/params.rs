//! The arguments of the MCP tools: serde types that decode straight into memlane's own types, with JSON Schemas
//! (schemars) whose descriptions tell an agent what each field means.
//!
//! Scope fields are flat (`user`, `agent`, `session`) in every tool (repeated per type rather than flattened:
//! serde's `flatten` would turn `deny_unknown_fields` off), and no tool takes a tenant: the tenant is the
//! authenticated one (HTTP) or the one the server was started for (stdio). Every type refuses unknown fields, so a
//! call that names a tenant is an `invalid_input` error naming the field.

use std::time::Duration;

use memlane::{Cursor, Filter, Kind, MemoryId, Scope, SearchMode, Timestamp};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;

/// Metadata: a JSON object.
pub(crate) type Metadata = serde_json::Map<String, serde_json::Value>;

/// One memory to store.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMemoryArgs {
    /// The text to remember: one self-contained statement is best ("Alice prefers dark mode").
    pub(crate) content: String,
    /// What sort of memory this is. Default: fact.
    #[serde(default)]
    #[schemars(schema_with = "kind_schema")]
    pub(crate) kind: Option<Kind>,
    /// The end user the memory is about.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// The agent that holds the memory.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// The conversation or run the memory belongs to.
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Free-form JSON object of attributes (e.g. {"topic": "ui", "confidence": 0.9}); filters can test them as
    /// metadata.KEY.
    #[serde(default)]
    pub(crate) metadata: Option<Metadata>,
    /// Forget the memory after this long: seconds (3600) or a duration such as "30s", "10m", "2h", "7d".
    #[serde(default, deserialize_with = "crate::http::dto::ttl")]
    #[schemars(schema_with = "ttl_schema")]
    pub(crate) ttl: Option<Duration>,
    /// Forget the memory at this time (RFC 3339, e.g. "2027-01-31T12:00:00Z"); give ttl or expires_at, not both.
    #[serde(default)]
    #[schemars(schema_with = "time_schema")]
    pub(crate) expires_at: Option<Timestamp>,
    /// The memory's id (a UUID), to make retries idempotent; a new one is made when left out.
    #[serde(default)]
    #[schemars(schema_with = "id_schema")]
    pub(crate) id: Option<MemoryId>,
}

/// `add`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddArgs {
    /// The memories to store, all or nothing (one or more).
    pub(crate) memories: Vec<NewMemoryArgs>,
    /// When true, a memory whose content is already stored (unexpired, same user/agent/session) is not stored
    /// again: the existing one is returned with created=false. Default: the store's setting.
    #[serde(default)]
    pub(crate) dedup: Option<bool>,
}

/// `get` and `delete`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdArgs {
    /// The memory's id (a UUID, as returned by add, list or search).
    #[schemars(schema_with = "id_schema")]
    pub(crate) id: MemoryId,
}

/// `update`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateArgs {
    /// The memory's id (a UUID).
    #[schemars(schema_with = "id_schema")]
    pub(crate) id: MemoryId,
    /// The new text.
    #[serde(default)]
    pub(crate) content: Option<String>,
    /// The new metadata: replaces the whole object.
    #[serde(default)]
    pub(crate) metadata: Option<Metadata>,
    /// The new kind.
    #[serde(default)]
    #[schemars(schema_with = "kind_schema")]
    pub(crate) kind: Option<Kind>,
    /// Expire this long from now: seconds or a duration such as "10m", "7d".
    #[serde(default, deserialize_with = "crate::http::dto::ttl")]
    #[schemars(schema_with = "ttl_schema")]
    pub(crate) ttl: Option<Duration>,
    /// The new expiry time (RFC 3339), or null to make the memory permanent.
    #[serde(default, deserialize_with = "crate::http::dto::double_option")]
    #[schemars(schema_with = "nullable_time_schema")]
    pub(crate) expires_at: Option<Option<Timestamp>>,
    /// Only update if the memory still has this version (from a previous get): a conflict error otherwise.
    #[serde(default)]
    pub(crate) expected_version: Option<u64>,
}

impl UpdateArgs {
    /// The core update.
    pub(crate) fn into_update(self) -> (MemoryId, memlane::Update) {
        let update = memlane::Update {
            content: self.content,
            metadata: self.metadata,
            kind: self.kind,
            expires_at: self.expires_at,
            ttl: self.ttl,
            embedding: None,
            expected_version: self.expected_version,
        };
        (self.id, update)
    }
}

/// `list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListArgs {
    /// Only this end user's memories.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// Only this agent's memories.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// Only this conversation's or run's memories.
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Only memories that pass this filter.
    #[serde(default)]
    #[schemars(schema_with = "filter_schema")]
    pub(crate) filter: Option<Filter>,
    /// Page size. Default 20.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub(crate) limit: Option<usize>,
    /// Where to continue: the `next` value of the previous page.
    #[serde(default)]
    #[schemars(schema_with = "cursor_schema")]
    pub(crate) cursor: Option<Cursor>,
}

/// `search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchArgs {
    /// What to look for, in natural language or keywords.
    pub(crate) text: String,
    /// How to rank: keyword (words, BM25), semantic (meaning, embeddings) or hybrid (both). Default: keyword.
    #[serde(default)]
    #[schemars(schema_with = "mode_schema")]
    pub(crate) mode: SearchMode,
    /// Only this end user's memories.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// Only this agent's memories.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// Only this conversation's or run's memories.
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Only memories that pass this filter.
    #[serde(default)]
    #[schemars(schema_with = "filter_schema")]
    pub(crate) filter: Option<Filter>,
    /// How many results at most. Default 20.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub(crate) limit: Option<usize>,
    /// Leave out results scoring below this (scores are in [0, 1], higher is better).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub(crate) min_score: Option<f32>,
}

/// `count`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountArgs {
    /// Only this end user's memories.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// Only this agent's memories.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// Only this conversation's or run's memories.
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Only count memories that pass this filter.
    #[serde(default)]
    #[schemars(schema_with = "filter_schema")]
    pub(crate) filter: Option<Filter>,
}

/// `forget`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForgetArgs {
    /// Only this end user's memories.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// Only this agent's memories.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// Only this conversation's or run's memories.
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Set to true, with no user/agent/session, to delete every memory of the tenant.
    #[serde(default)]
    pub(crate) all: bool,
}

/// The scope in `tenant` with these fields.
pub(crate) fn scope(
    tenant: &str,
    user: Option<String>,
    agent: Option<String>,
    session: Option<String>,
) -> Scope {
    Scope {
        tenant: tenant.to_owned(),
        user,
        agent,
        session,
    }
}

impl NewMemoryArgs {
    /// The memory to add in `tenant`.
    pub(crate) fn into_new(self, tenant: &str) -> memlane::NewMemory {
        memlane::NewMemory {
            id: self.id,
            scope: scope(tenant, self.user, self.agent, self.session),
            kind: self.kind.unwrap_or_default(),
            content: self.content,
            metadata: self.metadata.unwrap_or_default(),
            ttl: self.ttl,
            expires_at: self.expires_at,
            ..memlane::NewMemory::default()
        }
    }
}

fn kind_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "enum": ["message", "fact", "episode", "procedure"],
        "description": "message: a conversation turn (short-term, often with a ttl); fact: something true about \
                        the user or world (the default); episode: something that happened; procedure: how to do \
                        something."
    })
}

fn mode_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "enum": ["keyword", "semantic", "hybrid"],
        "default": "keyword",
        "description": "keyword: by words (BM25); semantic: by meaning (needs an embedding model on the server); \
                        hybrid: both fused. Scores are in [0, 1]."
    })
}

fn ttl_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Seconds, or a whole number and a unit: ms, s, m, h, d (\"10m\", \"7d\").",
        "anyOf": [
            {"type": "integer", "minimum": 1},
            {"type": "string", "pattern": "^[0-9]+(ms|s|m|h|d)$"}
        ]
    })
}

fn time_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "format": "date-time"})
}

fn nullable_time_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "format": "date-time"})
}

fn id_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "format": "uuid"})
}

fn cursor_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "description": "Opaque: pass back the `next` of the previous page."})
}

fn filter_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "A condition on fields: {\"field\": F, OP: V} with OP one of eq, ne, in, nin (V a list), gt, \
                        gte, lt, lte, exists (V true/false), contains; combined with {\"and\": [..]}, \
                        {\"or\": [..]}, {\"not\": {..}}. F is id, kind, content, user, agent, session, version, \
                        created_at, updated_at, expires_at (RFC 3339 values) or metadata.KEY (dot-separated path). \
                        V is a string, number or boolean.",
        "examples": [
            {"field": "kind", "eq": "fact"},
            {"and": [{"field": "metadata.topic", "in": ["work", "travel"]}, {"field": "metadata.confidence", "gte": 0.8}]}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode<T: serde::de::DeserializeOwned>(
        v: serde_json::Value,
    ) -> Result<T, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn flat_scope_and_core_types() {
        let a: SearchArgs = decode(serde_json::json!({
            "text": "dark mode", "mode": "hybrid", "user": "alice",
            "filter": {"field": "kind", "eq": "fact"}, "limit": 3
        }))
        .expect("decodes");
        assert_eq!(a.mode, SearchMode::Hybrid);
        assert_eq!(a.user.as_deref(), Some("alice"));
        assert!(a.filter.is_some());
        let n: AddArgs = decode(serde_json::json!({
            "memories": [{"content": "x", "kind": "episode", "ttl": "10m"}]
        }))
        .expect("decodes");
        assert_eq!(n.memories[0].ttl, Some(Duration::from_secs(600)));
        assert_eq!(n.memories[0].kind, Some(Kind::Episode));
    }

    #[test]
    fn unknown_fields_and_tenants_are_refused() {
        assert!(decode::<CountArgs>(serde_json::json!({"tenant": "other"})).is_err());
        assert!(decode::<ListArgs>(serde_json::json!({"tenant": "other"})).is_err());
        assert!(decode::<AddArgs>(serde_json::json!({
            "memories": [{"content": "x", "tenant": "other"}]
        }))
        .is_err());
    }

    #[test]
    fn expires_at_null_clears() {
        let u: UpdateArgs = decode(serde_json::json!({
            "id": "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b", "expires_at": null
        }))
        .expect("decodes");
        assert_eq!(u.expires_at, Some(None));
        let u: UpdateArgs =
            decode(serde_json::json!({"id": "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b"}))
                .expect("decodes");
        assert_eq!(u.expires_at, None);
    }
}
