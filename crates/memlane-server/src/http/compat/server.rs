//! mem0's self-hosted server routes (its FastAPI app): `/memories`, `/memories/{id}`, `/memories/{id}/history`,
//! `/search`, `/reset`, `/configure`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{filters, item, ops, schemas};
use crate::http::auth::Tenant;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, IdPath};
use crate::http::AppState;

/// `POST /memories` (mem0's `MemoryCreate`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Mem0MemoryCreate)]
pub(crate) struct MemoryCreate {
    messages: Vec<ops::Message>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
    /// Accepted and treated as `false`: memlane has no LLM to infer facts.
    #[serde(default)]
    #[allow(dead_code)]
    infer: Option<bool>,
    #[serde(default)]
    expiration_date: Option<String>,
}

#[utoipa::path(
    post, path = "/compat/mem0/memories", tag = "compat-mem0", operation_id = "mem0AddMemories",
    summary = "mem0 self-hosted: add messages as memories (infer=False)",
    request_body = MemoryCreate,
    responses(
        (status = 200, description = "one memory per non-system message", body = schemas::AddResults),
        schemas::Errors,
        schemas::BodyErrors,
    )
)]
/// `POST /memories`: each non-system message becomes one memory (mem0's `infer=False`).
pub(crate) async fn add(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<MemoryCreate>,
) -> Result<Json<Value>, ApiError> {
    let scope = ops::mem0_scope(&tenant, req.user_id, req.agent_id, req.run_id);
    let expires_at = req
        .expiration_date
        .map(|d| item::expires_at("expiration_date", &d))
        .transpose()?;
    let results = ops::add_messages(&state, scope, req.messages, req.metadata, expires_at).await?;
    Ok(Json(json!({ "results": results })))
}

/// The query of `GET /memories` and `DELETE /memories`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ScopeQuery {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
    /// The most memories to return (memlane's addition; default 100, at most 1,000).
    #[serde(default)]
    limit: Option<usize>,
}

#[utoipa::path(
    get, path = "/compat/mem0/memories", tag = "compat-mem0", operation_id = "mem0GetAllMemories",
    summary = "mem0 self-hosted: the memories of a user, agent or run",
    params(ScopeQuery),
    responses(
        (status = 200, description = "the memories, newest first", body = schemas::Results),
        schemas::Errors,
    )
)]
/// `GET /memories?user_id=...`: `{"results": [item, ...]}`, newest first.
pub(crate) async fn get_all(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<Value>, ApiError> {
    let scope = ops::mem0_scope(&tenant, q.user_id, q.agent_id, q.run_id);
    ops::require_id(&scope)?;
    let limit = ops::limit("limit", q.limit, ops::DEFAULT_LIST)?;
    let (memories, _) = ops::list(&state, scope, None, limit).await?;
    let results: Vec<Value> = memories.iter().map(item::item).collect();
    Ok(Json(json!({ "results": results })))
}

#[utoipa::path(
    get, path = "/compat/mem0/memories/{memory_id}", tag = "compat-mem0", operation_id = "mem0GetMemory",
    summary = "mem0 self-hosted: one memory",
    params(("memory_id" = uuid::Uuid, Path, description = "the memory's id")),
    responses(
        (status = 200, description = "the memory", body = schemas::Memory),
        schemas::Errors,
        schemas::NotFound,
    )
)]
/// `GET /memories/{memory_id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(item::item(&ops::get(&state, &tenant, id).await?)))
}

/// `POST /search`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Mem0SearchRequest)]
pub(crate) struct SearchRequest {
    query: String,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filters: Option<Map<String, Value>>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    top_k: Option<usize>,
    #[serde(default)]
    threshold: Option<f32>,
}

#[utoipa::path(
    post, path = "/compat/mem0/search", tag = "compat-mem0", operation_id = "mem0Search",
    summary = "mem0 self-hosted: search (semantic when the store embeds queries, else keyword; see [compat] search_mode)",
    request_body = SearchRequest,
    responses(
        (status = 200, description = "the matches, best first, with score", body = schemas::Results),
        schemas::Errors,
        schemas::BodyErrors,
    )
)]
/// `POST /search`: `{"results": [item + score, ...]}`, best first.
pub(crate) async fn search(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<SearchRequest>,
) -> Result<Json<Value>, ApiError> {
    let mut scope = ops::mem0_scope(&tenant, req.user_id, req.agent_id, req.run_id);
    let filter = match &req.filters {
        Some(f) => filters::translate(f, &mut scope)?,
        None => None,
    };
    let limit = ops::limit("top_k", req.top_k.or(req.limit), ops::DEFAULT_TOP_K)?;
    Ok(Json(
        ops::search(&state, scope, filter, req.query, limit, req.threshold).await?,
    ))
}

/// `PUT /memories/{memory_id}`: `{"text": ...}` (or mem0's older `data`/`memory`), `metadata`,
/// `expiration_date`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Mem0UpdateRequest)]
pub(crate) struct UpdateRequest {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    memory: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "crate::http::dto::double_option")]
    #[schema(value_type = Option<String>)]
    expiration_date: Option<Option<String>>,
}

#[utoipa::path(
    put, path = "/compat/mem0/memories/{memory_id}", tag = "compat-mem0", operation_id = "mem0UpdateMemory",
    summary = "mem0 self-hosted: change a memory",
    params(("memory_id" = uuid::Uuid, Path, description = "the memory's id")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "updated", body = schemas::Message),
        schemas::Errors,
        schemas::NotFound,
        (status = 409, description = "changed concurrently", body = schemas::Error),
        schemas::BodyErrors,
    )
)]
/// `PUT /memories/{memory_id}`: `{"message": "Memory updated successfully!"}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<UpdateRequest>,
) -> Result<Json<Value>, ApiError> {
    let change = ops::Change {
        text: req.text.or(req.data).or(req.memory),
        metadata: req.metadata,
        expiration_date: req.expiration_date,
    };
    ops::update(&state, &tenant, id, change).await?;
    Ok(Json(ops::message("Memory updated successfully!")))
}

#[utoipa::path(
    get, path = "/compat/mem0/memories/{memory_id}/history", tag = "compat-mem0", operation_id = "mem0MemoryHistory",
    summary = "mem0 self-hosted: a memory's history (ADD, and UPDATE when changed)",
    params(("memory_id" = uuid::Uuid, Path, description = "the memory's id")),
    responses(
        (status = 200, description = "the history", body = Vec<schemas::HistoryEntry>),
        schemas::Errors,
        schemas::NotFound,
    )
)]
/// `GET /memories/{memory_id}/history`.
pub(crate) async fn history(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(item::history(&ops::get(&state, &tenant, id).await?)))
}

#[utoipa::path(
    delete, path = "/compat/mem0/memories/{memory_id}", tag = "compat-mem0", operation_id = "mem0DeleteMemory",
    summary = "mem0 self-hosted: delete a memory",
    params(("memory_id" = uuid::Uuid, Path, description = "the memory's id")),
    responses(
        (status = 200, description = "deleted", body = schemas::Message),
        schemas::Errors,
        schemas::NotFound,
    )
)]
/// `DELETE /memories/{memory_id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<Json<Value>, ApiError> {
    ops::delete(&state, &tenant, id).await?;
    Ok(Json(ops::message("Memory deleted successfully")))
}

#[utoipa::path(
    delete, path = "/compat/mem0/memories", tag = "compat-mem0", operation_id = "mem0DeleteAllMemories",
    summary = "mem0 self-hosted: delete the memories of a user, agent or run",
    params(ScopeQuery),
    responses(
        (status = 200, description = "deleted", body = schemas::Message),
        schemas::Errors,
    )
)]
/// `DELETE /memories?user_id=...`: every memory of the scope (one id at least).
pub(crate) async fn delete_all(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<Value>, ApiError> {
    if q.limit.is_some() {
        return Err(ApiError::invalid(
            "limit",
            "limit does not apply to a deletion",
        ));
    }
    let scope = ops::mem0_scope(&tenant, q.user_id, q.agent_id, q.run_id);
    ops::forget(&state, scope).await?;
    Ok(Json(ops::message("All relevant memories deleted")))
}

#[utoipa::path(
    post, path = "/compat/mem0/reset", tag = "compat-mem0", operation_id = "mem0Reset",
    summary = "mem0 self-hosted: refused unless [compat] allow_reset (then: the caller's tenant only)",
    responses(
        (status = 200, description = "the caller's tenant was emptied", body = schemas::Message),
        (status = 401, description = "missing or wrong API key", body = schemas::Error),
        (status = 403, description = "refused", body = schemas::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = schemas::Error),
    )
)]
/// `POST /reset`: mem0 wipes its whole store. memlane never does that on a compatibility call: with
/// `[compat] allow_reset = true` it forgets the caller's tenant only; otherwise (the default) it refuses, 403.
pub(crate) async fn reset(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Value>, ApiError> {
    if !state.config.compat.allow_reset {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "POST /reset is refused: memlane does not wipe memories on a mem0 compatibility call. Delete a scope \
             with DELETE /memories?user_id=..., or the caller's whole tenant with POST /v1/forget {\"all\": true} \
             (or enable [compat] allow_reset, which forgets the caller's tenant only)",
        ));
    }
    let deleted = state
        .store()
        .forget(&memlane::Scope::tenant(tenant.0.clone()))
        .await?;
    tracing::warn!(
        deleted,
        "mem0 compatibility POST /reset forgot the caller's whole tenant"
    );
    Ok(Json(ops::message("All memories reset")))
}

#[utoipa::path(
    post, path = "/compat/mem0/configure", tag = "compat-mem0", operation_id = "mem0Configure",
    summary = "mem0 self-hosted: not supported (410)",
    responses(
        (status = 410, description = "not supported: memlane is configured by its own config", body = schemas::Error),
        (status = 401, description = "missing or wrong API key", body = schemas::Error),
    )
)]
/// `POST /configure`: memlane is configured by its own config file, never by a request: 410.
pub(crate) async fn configure(_tenant: Tenant) -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "gone",
        "POST /configure is not supported: memlane is configured by its own config file and environment \
         (docs/server.md), not by mem0's Memory.from_config",
    )
}
