//! The schemas of the core's types, for the OpenAPI document.
//!
//! The core's types ([`memlane::Memory`], [`memlane::Page`], ...) are not annotated for utoipa (the core has no
//! HTTP concerns), and Rust's orphan rule forbids implementing utoipa's trait for them here. So each one has a
//! mirror here with the same JSON form, used only as a schema (`#[schema(value_type = ...)]` in the request types,
//! `body = ...` in the routes). They are never built; `tests/openapi.rs` checks real answers of a running server
//! against these schemas, so a mirror that drifts from its type fails there.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// What sort of memory it is: `message` (short-term, conversation turns), `fact` (long-term), `episode` (what
/// happened) or `procedure` (how to do something). Default: `fact`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Message,
    Fact,
    Episode,
    Procedure,
}

/// How a search ranks: `keyword` (BM25, normalized to [0, 1]), `semantic` (cosine similarity of embeddings) or
/// `hybrid` (both fused, in [0, 1]). Default: `keyword`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SearchMode {
    Keyword,
    Semantic,
    Hybrid,
}

/// Whose memory it is. In answers only: requests never name the tenant (it is the caller's).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scope {
    /// The tenant of the API key.
    tenant: String,
    /// The end user.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    /// The agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    /// The conversation or run.
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
}

/// An embedding vector with the model that produced it; vectors of different models are never compared.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Embedding {
    /// The model's name, e.g. `all-MiniLM-L6-v2`.
    model: String,
    /// The vector; its length is the model's dimension.
    vector: Vec<f32>,
}

/// A time to live: a number of seconds (at least 1) or a duration such as `"10m"` (units ms, s, m, h, d).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum Ttl {
    /// Seconds.
    Seconds(u64),
    /// A duration with a unit, e.g. `"10m"`.
    Text(String),
}

/// A filter in memlane's JSON filter language (docs/filters.md): `{"field": F, "<op>": V}` with op one of `eq ne
/// in nin gt gte lt lte exists contains`, joined by `{"and": [..]}`, `{"or": [..]}`, `{"not": ..}`.
#[derive(Serialize, ToSchema)]
#[schema(value_type = Object, examples(json!({"field": "kind", "eq": "fact"})))]
pub(crate) struct Filter(serde_json::Value);

/// A stored memory.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Memory {
    /// Its id (UUIDv7, time-ordered).
    id: uuid::Uuid,
    /// Whose it is.
    scope: Scope,
    /// What sort it is.
    kind: Kind,
    /// The text.
    content: String,
    /// Free-form JSON object.
    #[schema(value_type = Object)]
    metadata: serde_json::Map<String, serde_json::Value>,
    /// The content's embedding, when one was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<Embedding>,
    /// When it was created (RFC 3339, milliseconds).
    #[schema(format = DateTime)]
    created_at: String,
    /// When it was last changed.
    #[schema(format = DateTime)]
    updated_at: String,
    /// When it expires; it is never returned after that.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// Starts at 1, bumped by each update (optimistic concurrency).
    #[schema(minimum = 1)]
    version: u64,
    /// sha256 of `content`, lowercase hex.
    content_hash: String,
}

/// A change to a memory; absent fields are left as they are.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "content": "Alice prefers light mode", "metadata": {"source": "chat"}, "kind": "fact",
    "expires_at": null, "embedding": {"model": "m", "vector": [1.0]}, "expected_version": 1
})))]
pub(crate) struct Update {
    /// New content (the embedding is dropped, or recomputed by the server's embedder).
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    /// New metadata, replacing the old object whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// New kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<Kind>,
    /// New expiry; `null` removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// New time to live from now; exclusive with `expires_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<Ttl>,
    /// New embedding (of the unchanged or new content).
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<Embedding>,
    /// Apply only if the stored version is this one; otherwise 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_version: Option<u64>,
}

/// One page of a listing, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct Page {
    /// The memories.
    memories: Vec<Memory>,
    /// The cursor of the next page (give it as `cursor`); `null` on the last page.
    #[schema(required = true)]
    next: Option<String>,
}

/// What `add` did with one memory.
#[derive(Serialize, ToSchema)]
pub(crate) struct Added {
    /// The stored memory (the existing one when not created).
    memory: Memory,
    /// `true` when it was stored now; `false` when the id or content already existed.
    created: bool,
}

/// A search result.
#[derive(Serialize, ToSchema)]
pub(crate) struct Scored {
    /// The memory.
    memory: Memory,
    /// Its score in [0, 1], higher is better.
    #[schema(minimum = 0, maximum = 1)]
    score: f32,
}

/// How an import went.
#[derive(Serialize, ToSchema)]
pub(crate) struct ImportReport {
    /// Memories stored now.
    created: u64,
    /// Memories that were already there (same id and content).
    existing: u64,
    /// `[line number, why]` of each skipped line (only with `skip_invalid`).
    #[schema(value_type = Vec<Vec<Value>>)]
    skipped: Vec<(u64, String)>,
}

/// The size limits a store enforces.
#[derive(Serialize, ToSchema)]
pub(crate) struct Limits {
    /// Bytes of content.
    max_content_bytes: u64,
    /// Bytes of metadata (as JSON).
    max_metadata_bytes: u64,
    /// Memories per batch.
    max_batch: u64,
    /// Results per page or search.
    max_limit: u64,
    /// Embedding dimension.
    max_dimension: u64,
}

/// What a store offers, and its limits.
#[derive(Serialize, ToSchema)]
pub(crate) struct Capabilities {
    /// Keyword search.
    keyword_search: bool,
    /// Semantic search.
    semantic_search: bool,
    /// Hybrid search.
    hybrid_search: bool,
    /// Expiry (TTL).
    ttl: bool,
    /// All-or-nothing batches.
    transactions: bool,
    /// Survives restarts.
    durable: bool,
    /// Computes embeddings itself: semantic and hybrid search take plain text.
    embeds_text: bool,
    /// The size limits.
    limits: Limits,
}

/// Whether the server is ready.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Readiness {
    Ok,
    Unavailable,
    Draining,
}

/// A backend's state at its last probe.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BackendStatus {
    Ok,
    Unavailable,
}

/// One backend's last probe.
#[derive(Serialize, ToSchema)]
pub(crate) struct BackendHealth {
    /// The backend's name.
    backend: String,
    /// Up or not.
    status: BackendStatus,
    /// How long the probe took.
    latency_ms: f64,
    /// When.
    #[schema(format = DateTime)]
    checked_at: String,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The answer of `/health/ready`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// Overall.
    status: Readiness,
    /// Each backend.
    backends: Vec<BackendHealth>,
}

/// The stable error codes.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorCode {
    InvalidInput,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    TooLarge,
    UnsupportedMediaType,
    Internal,
    Unsupported,
    Unavailable,
}

/// The fields of an error.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// The stable code.
    code: ErrorCode,
    /// What went wrong, for people.
    message: String,
    /// The offending field (a JSON pointer into the body, a query parameter or a header), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// The stored version, on a version conflict.
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<u64>,
    /// The request's id (also in the `x-request-id` header).
    request_id: String,
}

/// Every error answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct Error {
    /// The error.
    error: ErrorDetail,
}
