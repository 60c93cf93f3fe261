//! The JSON bodies of the API that are not the core's own types.
//!
//! Requests never carry a tenant: the tenant of every request is the authenticated one. Scope fields are `user`,
//! `agent` and `session` only, and every request type refuses unknown fields, so a body that names a tenant is a
//! 400 naming the field.

use std::time::Duration;

use memlane::export::ImportReport;
use memlane::{
    Added, Cursor, Embedding, Filter, Kind, Memory, MemoryId, NewMemory, Scope, Scored, SearchMode,
    Timestamp,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Tenant;
use super::openapi::schemas as s;

type Metadata = serde_json::Map<String, serde_json::Value>;

/// The scope of a new memory; its tenant is the caller's.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeIn {
    /// The end user.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// The agent.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// The conversation or run.
    #[serde(default)]
    pub(crate) session: Option<String>,
}

/// The scope of `tenant` with the given fields.
pub(crate) fn scope(
    tenant: &Tenant,
    user: Option<String>,
    agent: Option<String>,
    session: Option<String>,
) -> Scope {
    Scope {
        tenant: tenant.0.clone(),
        user,
        agent,
        session,
    }
}

impl ScopeIn {
    fn into_scope(self, tenant: &Tenant) -> Scope {
        scope(tenant, self.user, self.agent, self.session)
    }
}

/// One memory of `POST /v1/memories`: [`NewMemory`] without the tenant and the import-only fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewMemory)]
pub(crate) struct NewMemoryIn {
    /// Its id, for idempotent retries (default: a new UUIDv7).
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    id: Option<MemoryId>,
    /// Whose it is, within the caller's tenant.
    #[serde(default)]
    scope: ScopeIn,
    /// What sort it is.
    #[serde(default)]
    #[schema(value_type = s::Kind)]
    kind: Kind,
    /// The text.
    content: String,
    /// Free-form JSON object.
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: Metadata,
    /// Its embedding, when the caller computed one.
    #[serde(default)]
    #[schema(value_type = Option<s::Embedding>)]
    embedding: Option<Embedding>,
    /// Expire after this long; exclusive with `expires_at`.
    #[serde(default, deserialize_with = "ttl")]
    #[schema(value_type = Option<s::Ttl>)]
    ttl: Option<Duration>,
    /// Expire at this time (RFC 3339).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Timestamp>,
}

impl NewMemoryIn {
    /// The memory to add for `tenant`.
    pub(crate) fn into_new(self, tenant: &Tenant) -> NewMemory {
        NewMemory {
            id: self.id,
            scope: self.scope.into_scope(tenant),
            kind: self.kind,
            content: self.content,
            metadata: self.metadata,
            embedding: self.embedding,
            ttl: self.ttl,
            expires_at: self.expires_at,
            ..NewMemory::default()
        }
    }
}

/// A TTL: a number of seconds or a string such as `"10m"`, as in the core's JSON form (REST and MCP arguments).
pub(crate) fn ttl<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Secs(0)) => Err(serde::de::Error::custom("ttl must be greater than zero")),
        Some(Raw::Secs(n)) => Ok(Some(Duration::from_secs(n))),
        Some(Raw::Text(t)) => memlane::parse_ttl(&t)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// A field that may be null: present (even as null) is `Some`, absent is `None` (with `#[serde(default)]`).
pub(crate) fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /v1/memories`: a batch, added all or nothing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"memories": [{
    "id": "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b", "scope": {"user": "alice", "agent": "a", "session": "s1"},
    "kind": "fact", "content": "Alice prefers dark mode", "metadata": {"source": "chat"},
    "embedding": {"model": "all-MiniLM-L6-v2", "vector": [0.1, 0.2]}, "ttl": "7d"
}], "dedup": true})))]
pub(crate) struct AddRequest {
    /// The memories.
    pub(crate) memories: Vec<NewMemoryIn>,
    /// Return the existing memory instead of adding one with the same content in the same scope (default: the
    /// store's setting).
    #[serde(default)]
    pub(crate) dedup: Option<bool>,
}

/// The answer of `POST /v1/memories`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AddResponse {
    /// Each memory, in the order given: created, or already there.
    #[schema(value_type = Vec<s::Added>)]
    pub(crate) results: Vec<Added>,
}

/// `POST /v1/memories/get`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"ids": ["019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b"]})))]
pub(crate) struct GetManyRequest {
    /// The ids.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub(crate) ids: Vec<MemoryId>,
}

/// A list of memories.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Memories)]
pub(crate) struct MemoriesResponse {
    /// The memories found, in the order asked; missing ones left out.
    #[schema(value_type = Vec<s::Memory>)]
    pub(crate) memories: Vec<Memory>,
}

/// `POST /v1/memories/list`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"user": "alice", "agent": "a", "session": "s1", "filter": {"field": "kind", "eq": "fact"},
    "limit": 10, "cursor": super::openapi::cursor_example(), "embeddings": false})))]
pub(crate) struct ListRequest {
    /// The end user.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// The agent.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// The conversation or run.
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Only the memories that pass it.
    #[serde(default)]
    #[schema(value_type = Option<s::Filter>)]
    pub(crate) filter: Option<Filter>,
    /// The page size (default 10).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub(crate) limit: Option<usize>,
    /// The previous page's `next`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub(crate) cursor: Option<Cursor>,
    /// Whether the memories carry their embeddings (default true; false makes pages much lighter).
    #[serde(default)]
    pub(crate) embeddings: Option<bool>,
}

/// `POST /v1/search`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"text": "dark mode", "mode": "keyword", "filter": {"field": "kind", "eq": "fact"}, "limit": 5,
    "min_score": 0.2, "embedding": {"model": "all-MiniLM-L6-v2", "vector": [0.1, 0.2]},
    "user": "alice", "agent": "a", "session": "s1"})))]
pub(crate) struct SearchRequest {
    /// What to look for.
    pub(crate) text: String,
    /// How to rank.
    #[serde(default)]
    #[schema(value_type = s::SearchMode)]
    pub(crate) mode: SearchMode,
    /// Only the memories that pass it.
    #[serde(default)]
    #[schema(value_type = Option<s::Filter>)]
    pub(crate) filter: Option<Filter>,
    /// How many results at most (default 10).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub(crate) limit: Option<usize>,
    /// Leave out results scoring below it.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1)]
    pub(crate) min_score: Option<f32>,
    /// The query's embedding, when the caller computed it (semantic and hybrid modes).
    #[serde(default)]
    #[schema(value_type = Option<s::Embedding>)]
    pub(crate) embedding: Option<Embedding>,
    /// The end user.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// The agent.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// The conversation or run.
    #[serde(default)]
    pub(crate) session: Option<String>,
}

/// The answer of `POST /v1/search`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchResponse {
    /// The matches, best first.
    #[schema(value_type = Vec<s::Scored>)]
    pub(crate) results: Vec<Scored>,
}

/// `POST /v1/forget`: a scope to delete; the whole tenant only with `"all": true` and no scope field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"user": "alice", "agent": "a", "session": "s1", "all": false})))]
pub(crate) struct ForgetRequest {
    /// The end user.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// The agent.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// The conversation or run.
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Required to forget the whole tenant.
    #[serde(default)]
    pub(crate) all: bool,
}

/// The answer of `POST /v1/forget`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ForgetResponse {
    /// How many memories were deleted.
    pub(crate) deleted: u64,
}

/// `POST /v1/count`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"user": "alice", "agent": "a", "session": "s1", "filter": {"field": "kind", "eq": "message"}})))]
pub(crate) struct CountRequest {
    /// The end user.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// The agent.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// The conversation or run.
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Only the memories that pass it.
    #[serde(default)]
    #[schema(value_type = Option<s::Filter>)]
    pub(crate) filter: Option<Filter>,
}

/// The answer of `POST /v1/count`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CountResponse {
    /// How many.
    pub(crate) count: u64,
}

/// The query of `GET /v1/export`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// The end user.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// The agent.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// The conversation or run.
    #[serde(default)]
    pub(crate) session: Option<String>,
}

/// The query of `POST /v1/import`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportQuery {
    /// Skip malformed lines instead of stopping at the first.
    #[serde(default)]
    pub(crate) skip_invalid: bool,
}

/// The answer of `POST /v1/import`.
pub(crate) type ImportResponse = ImportReport;

/// The answer of `GET /v1/capabilities`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CapabilitiesResponse {
    /// The store's backend, e.g. `embedded`.
    pub(crate) backend: String,
    /// What it offers.
    #[serde(flatten)]
    #[schema(value_type = s::Capabilities)]
    pub(crate) capabilities: memlane::Capabilities,
}
