//! The OpenAPI schemas of mem0's answers (for `/openapi.json`, tag `compat-mem0`): mirrors of the JSON the
//! compatibility handlers build, used only as schemas. `tests/compat_mem0.rs` checks real answers against them.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

/// An error of a compatibility route, in mem0's (FastAPI's) shape plus memlane's code and request id.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0Error)]
pub(crate) struct Error {
    /// What went wrong (mem0's clients show it).
    detail: String,
    /// memlane's stable error code (`invalid_input`, `unauthorized`, `not_found`, ...).
    code: String,
    /// The offending field, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// The request's id (also in `x-request-id`).
    request_id: String,
}

/// A memory in mem0's shape.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0Memory)]
pub(crate) struct Memory {
    /// Its id (a UUID).
    id: String,
    /// The text.
    memory: String,
    /// A hash of the text (mem0's, when imported from mem0; memlane's SHA-256 otherwise).
    hash: String,
    /// The caller's metadata, or null.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339.
    updated_at: String,
    /// The user (memlane's scope `user`).
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    /// The agent (scope `agent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    /// The run (scope `session`).
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<String>,
    /// The role of the message it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    /// The name of the message's author.
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_id: Option<String>,
    /// Categories (imported from mem0).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    categories: Option<serde_json::Value>,
    /// The last day it lives (`YYYY-MM-DD`), when it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_date: Option<String>,
    /// The search score in [0, 1] (search answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f32>,
    /// `Memory updated successfully!` (platform update answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// `{"results": [memory, ...]}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0Results)]
pub(crate) struct Results {
    /// The memories.
    results: Vec<Memory>,
}

/// A page of mem0's platform `get_all`.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0Page)]
pub(crate) struct Page {
    /// How many memories pass the filters in all.
    count: u64,
    /// The next page's query (`?page=N&page_size=M`), or null.
    next: Option<String>,
    /// The previous page's query, or null.
    previous: Option<String>,
    /// This page's memories, newest first.
    results: Vec<Memory>,
}

/// One added memory.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0Added)]
pub(crate) struct Added {
    /// Its id.
    id: String,
    /// The text.
    memory: String,
    /// Always `ADD` (no LLM: each message is one memory).
    event: String,
    /// The message's role.
    role: String,
    /// The message's `name`, or null.
    actor_id: Option<String>,
    /// `{"memory": text}` (platform answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    data: Option<serde_json::Value>,
}

/// The answer of an add: `{"results": [added, ...]}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0AddResults)]
pub(crate) struct AddResults {
    /// One per non-system message.
    results: Vec<Added>,
}

/// One entry of a memory's history.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0HistoryEntry)]
pub(crate) struct HistoryEntry {
    /// The entry's id.
    id: String,
    /// The memory's id.
    memory_id: String,
    /// The text before (null: memlane keeps no past texts).
    old_memory: Option<String>,
    /// The text now.
    new_memory: String,
    /// `ADD` or `UPDATE`.
    event: String,
    /// When (RFC 3339).
    created_at: String,
    /// Always null.
    updated_at: Option<String>,
    /// Always false (deleted memories are gone).
    is_deleted: bool,
    /// The author's name, or null.
    actor_id: Option<String>,
    /// The role, or null.
    role: Option<String>,
}

/// `{"message": "..."}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0Message)]
pub(crate) struct Message {
    /// What was done.
    message: String,
}

/// The answer of the platform's ping.
#[derive(Serialize, ToSchema)]
#[schema(as = Mem0Ping)]
pub(crate) struct Ping {
    /// `ok`.
    status: String,
    /// Always `memlane`.
    org_id: String,
    /// The caller's tenant.
    project_id: String,
    /// Always null.
    user_email: Option<String>,
}

/// The errors every compat route documents: 400, 401, 503.
#[allow(dead_code)] // documentation only: the answers are built by `ApiError`
#[derive(IntoResponses)]
pub(crate) enum Errors {
    /// Invalid input.
    #[response(
        status = 400,
        description = "invalid input or an unmappable filter; `field` names it"
    )]
    Invalid(Error),
    /// No or a wrong key.
    #[response(status = 401, description = "missing or wrong API key")]
    Unauthorized(Error),
    /// Temporarily unavailable.
    #[response(
        status = 503,
        description = "store unavailable, overloaded or timed out; see Retry-After"
    )]
    Unavailable(Error),
}

/// The errors of a route that reads a JSON body: 413, 415.
#[allow(dead_code)] // documentation only
#[derive(IntoResponses)]
pub(crate) enum BodyErrors {
    /// Too large.
    #[response(status = 413, description = "body or value too large")]
    TooLarge(Error),
    /// Not JSON.
    #[response(
        status = 415,
        description = "wrong Content-Type (want application/json)"
    )]
    NotJson(Error),
}

/// The error of a route naming a memory: 404.
#[allow(dead_code)] // documentation only
#[derive(IntoResponses)]
pub(crate) enum NotFound {
    /// No such memory.
    #[response(status = 404, description = "no such memory in the tenant")]
    Missing(Error),
}
