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

use super::auth::Tenant;

type Metadata = serde_json::Map<String, serde_json::Value>;

/// The scope fields a request may give.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeIn {
    #[serde(default)]
    pub(crate) user: Option<String>,
    #[serde(default)]
    pub(crate) agent: Option<String>,
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMemoryIn {
    #[serde(default)]
    id: Option<MemoryId>,
    #[serde(default)]
    scope: ScopeIn,
    #[serde(default)]
    kind: Kind,
    content: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    embedding: Option<Embedding>,
    #[serde(default, deserialize_with = "ttl")]
    ttl: Option<Duration>,
    #[serde(default)]
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

/// A TTL: a number of seconds or a string such as `"10m"`, as in the core's JSON form.
fn ttl<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
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

/// `POST /v1/memories`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddRequest {
    pub(crate) memories: Vec<NewMemoryIn>,
    #[serde(default)]
    pub(crate) dedup: Option<bool>,
}

/// The answer of `POST /v1/memories`.
#[derive(Debug, Serialize)]
pub(crate) struct AddResponse {
    pub(crate) results: Vec<Added>,
}

/// `POST /v1/memories/get`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetManyRequest {
    pub(crate) ids: Vec<MemoryId>,
}

/// A list of memories.
#[derive(Debug, Serialize)]
pub(crate) struct MemoriesResponse {
    pub(crate) memories: Vec<Memory>,
}

/// `POST /v1/memories/list`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListRequest {
    #[serde(default)]
    pub(crate) user: Option<String>,
    #[serde(default)]
    pub(crate) agent: Option<String>,
    #[serde(default)]
    pub(crate) session: Option<String>,
    #[serde(default)]
    pub(crate) filter: Option<Filter>,
    #[serde(default)]
    pub(crate) limit: Option<usize>,
    #[serde(default)]
    pub(crate) cursor: Option<Cursor>,
}

/// `POST /v1/search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchRequest {
    pub(crate) text: String,
    #[serde(default)]
    pub(crate) mode: SearchMode,
    #[serde(default)]
    pub(crate) filter: Option<Filter>,
    #[serde(default)]
    pub(crate) limit: Option<usize>,
    #[serde(default)]
    pub(crate) min_score: Option<f32>,
    #[serde(default)]
    pub(crate) embedding: Option<Embedding>,
    #[serde(default)]
    pub(crate) user: Option<String>,
    #[serde(default)]
    pub(crate) agent: Option<String>,
    #[serde(default)]
    pub(crate) session: Option<String>,
}

/// The answer of `POST /v1/search`.
#[derive(Debug, Serialize)]
pub(crate) struct SearchResponse {
    pub(crate) results: Vec<Scored>,
}

/// `POST /v1/forget`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForgetRequest {
    #[serde(default)]
    pub(crate) user: Option<String>,
    #[serde(default)]
    pub(crate) agent: Option<String>,
    #[serde(default)]
    pub(crate) session: Option<String>,
    /// Required to forget the whole tenant.
    #[serde(default)]
    pub(crate) all: bool,
}

/// The answer of `POST /v1/forget`.
#[derive(Debug, Serialize)]
pub(crate) struct ForgetResponse {
    pub(crate) deleted: u64,
}

/// `POST /v1/count`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountRequest {
    #[serde(default)]
    pub(crate) user: Option<String>,
    #[serde(default)]
    pub(crate) agent: Option<String>,
    #[serde(default)]
    pub(crate) session: Option<String>,
    #[serde(default)]
    pub(crate) filter: Option<Filter>,
}

/// The answer of `POST /v1/count`.
#[derive(Debug, Serialize)]
pub(crate) struct CountResponse {
    pub(crate) count: u64,
}

/// The query of `GET /v1/export`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    #[serde(default)]
    pub(crate) user: Option<String>,
    #[serde(default)]
    pub(crate) agent: Option<String>,
    #[serde(default)]
    pub(crate) session: Option<String>,
}

/// The query of `POST /v1/import`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportQuery {
    /// Skip malformed lines instead of stopping at the first.
    #[serde(default)]
    pub(crate) skip_invalid: bool,
}

/// The answer of `POST /v1/import`.
pub(crate) type ImportResponse = ImportReport;

/// The answer of `GET /v1/capabilities`.
#[derive(Debug, Serialize)]
pub(crate) struct CapabilitiesResponse {
    pub(crate) backend: String,
    #[serde(flatten)]
    pub(crate) capabilities: memlane::Capabilities,
}
