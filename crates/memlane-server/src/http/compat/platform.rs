//! The subset of mem0's platform API that `mem0.MemoryClient(host="http://HOST/compat/mem0")` uses for `add`,
//! `get`, `get_all`, `search`, `update`, `history`, `delete` and `delete_all` (and the ping it sends when built).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{filters, item, ops, schemas};
use crate::http::auth::Tenant;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, IdPath};
use crate::http::AppState;

#[utoipa::path(
    get, path = "/compat/mem0/v1/ping/", tag = "compat-mem0", operation_id = "mem0PlatformPing",
    summary = "mem0 platform: check the key (MemoryClient does when built)",
    responses(
        (status = 200, description = "the key is valid", body = schemas::Ping),
        (status = 401, description = "missing or wrong API key", body = schemas::Error),
    )
)]
/// `GET /v1/ping/`: the key is valid (MemoryClient checks it when built, and needs an `org_id` and a
/// `project_id`: `memlane` and the caller's tenant).
pub(crate) async fn ping(tenant: Tenant) -> Json<Value> {
    Json(json!({"status": "ok", "org_id": "memlane", "project_id": tenant.0, "user_email": null}))
}

/// `POST /v3/memories/add/`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Mem0PlatformAdd)]
pub(crate) struct AddRequest {
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
    #[serde(default)]
    expiration_date: Option<String>,
    /// Accepted and treated as `false`: memlane has no LLM to infer facts.
    #[serde(default)]
    #[allow(dead_code)]
    infer: Option<bool>,
    /// Accepted: memlane adds synchronously (the memories are there when the answer comes).
    #[serde(default)]
    #[allow(dead_code)]
    async_mode: Option<bool>,
    /// Accepted: the answer has one shape.
    #[serde(default)]
    #[allow(dead_code)]
    output_format: Option<String>,
    /// Accepted: the answer has one shape.
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<String>,
}

#[utoipa::path(
    post, path = "/compat/mem0/v3/memories/add/", tag = "compat-mem0", operation_id = "mem0PlatformAdd",
    summary = "mem0 platform: add messages as memories (infer=False)",
    request_body = AddRequest,
    responses(
        (status = 200, description = "one memory per non-system message", body = schemas::AddResults),
        schemas::Errors,
        schemas::BodyErrors,
    )
)]
/// `POST /v3/memories/add/`: `{"results": [{"id", "memory", "data": {"memory"}, "event": "ADD", ...}]}`.
pub(crate) async fn add(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<AddRequest>,
) -> Result<Json<Value>, ApiError> {
    let scope = ops::mem0_scope(&tenant, req.user_id, req.agent_id, req.run_id);
    let expires_at = req
        .expiration_date
        .map(|d| item::expires_at("expiration_date", &d))
        .transpose()?;
    let mut results =
        ops::add_messages(&state, scope, req.messages, req.metadata, expires_at).await?;
    for r in &mut results {
        r["data"] = json!({ "memory": r["memory"].clone() });
    }
    Ok(Json(json!({ "results": results })))
}

/// `POST /v3/memories/` (get_all): the body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Mem0PlatformGetAll)]
pub(crate) struct ListRequest {
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filters: Option<Map<String, Value>>,
}

/// `POST /v3/memories/` (get_all): the query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    page_size: Option<usize>,
}

#[utoipa::path(
    post, path = "/compat/mem0/v3/memories/", tag = "compat-mem0", operation_id = "mem0PlatformGetAll",
    summary = "mem0 platform: a page of the memories passing the filters",
    params(PageQuery),
    request_body = ListRequest,
    responses(
        (status = 200, description = "a page, newest first", body = schemas::Page),
        schemas::Errors,
        schemas::BodyErrors,
    )
)]
/// `POST /v3/memories/`: a page, `{"count", "next", "previous", "results"}`, newest first; the filters must name
/// a user, agent or run (as mem0's).
pub(crate) async fn get_all(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
    ApiJson(req): ApiJson<ListRequest>,
) -> Result<Json<Value>, ApiError> {
    let mut scope = ops::mem0_scope(&tenant, None, None, None);
    let filter = match &req.filters {
        Some(f) => filters::translate(f, &mut scope)?,
        None => None,
    };
    ops::require_id(&scope).map_err(|_| {
        ApiError::invalid(
            "filters",
            "filters must contain at least one of: user_id, agent_id, run_id",
        )
    })?;
    let page = q.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::invalid("page", "page starts at 1"));
    }
    let size = ops::limit("page_size", q.page_size, ops::DEFAULT_LIST)?;
    let skip = (page - 1).saturating_mul(size);
    if skip.saturating_add(size) > ops::MAX_LIST * 10 {
        return Err(ApiError::invalid(
            "page",
            format!(
                "pages reach {} memories at most: use /v1/memories/list and its cursor",
                ops::MAX_LIST * 10
            ),
        ));
    }
    let count = state.store().count(&scope, filter.as_ref()).await?;
    let (mut memories, more) = ops::list(&state, scope, filter, skip + size).await?;
    let results: Vec<Value> = memories
        .split_off(skip.min(memories.len()))
        .iter()
        .map(item::item)
        .collect();
    let link = |p: usize| format!("?page={p}&page_size={size}");
    Ok(Json(json!({
        "count": count,
        "next": more.then(|| link(page + 1)),
        "previous": (page > 1).then(|| link(page - 1)),
        "results": results,
    })))
}

/// `POST /v3/memories/search/`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Mem0PlatformSearch)]
pub(crate) struct SearchRequest {
    query: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filters: Option<Map<String, Value>>,
    #[serde(default)]
    top_k: Option<usize>,
    #[serde(default)]
    threshold: Option<f32>,
    /// Accepted: memlane's ranking is its own (no reranker).
    #[serde(default)]
    #[allow(dead_code)]
    rerank: Option<bool>,
}

#[utoipa::path(
    post, path = "/compat/mem0/v3/memories/search/", tag = "compat-mem0", operation_id = "mem0PlatformSearch",
    summary = "mem0 platform: search (semantic when the store embeds queries, else keyword; see [compat] search_mode)",
    request_body = SearchRequest,
    responses(
        (status = 200, description = "the matches, best first, with score", body = schemas::Results),
        schemas::Errors,
        schemas::BodyErrors,
    )
)]
/// `POST /v3/memories/search/`: `{"results": [item + score, ...]}`, best first.
pub(crate) async fn search(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<SearchRequest>,
) -> Result<Json<Value>, ApiError> {
    let mut scope = ops::mem0_scope(&tenant, None, None, None);
    let filter = match &req.filters {
        Some(f) => filters::translate(f, &mut scope)?,
        None => None,
    };
    let limit = ops::limit("top_k", req.top_k, ops::DEFAULT_TOP_K)?;
    Ok(Json(
        ops::search(&state, scope, filter, req.query, limit, req.threshold).await?,
    ))
}

#[utoipa::path(
    get, path = "/compat/mem0/v1/memories/{memory_id}/", tag = "compat-mem0", operation_id = "mem0PlatformGet",
    summary = "mem0 platform: one memory",
    params(("memory_id" = uuid::Uuid, Path, description = "the memory's id")),
    responses(
        (status = 200, description = "the memory", body = schemas::Memory),
        schemas::Errors,
        schemas::NotFound,
    )
)]
/// `GET /v1/memories/{memory_id}/`.
pub(crate) async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(item::item(&ops::get(&state, &tenant, id).await?)))
}

/// `PUT /v1/memories/{memory_id}/`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Mem0PlatformUpdate)]
pub(crate) struct UpdateRequest {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "crate::http::dto::double_option")]
    #[schema(value_type = Option<String>)]
    expiration_date: Option<Option<String>>,
}

#[utoipa::path(
    put, path = "/compat/mem0/v1/memories/{memory_id}/", tag = "compat-mem0", operation_id = "mem0PlatformUpdate",
    summary = "mem0 platform: change a memory",
    params(("memory_id" = uuid::Uuid, Path, description = "the memory's id")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "the memory as updated", body = schemas::Memory),
        schemas::Errors,
        schemas::NotFound,
        (status = 409, description = "changed concurrently", body = schemas::Error),
        schemas::BodyErrors,
    )
)]
/// `PUT /v1/memories/{memory_id}/`: the updated memory (and a `message`).
pub(crate) async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<UpdateRequest>,
) -> Result<Json<Value>, ApiError> {
    let change = ops::Change {
        text: req.text,
        metadata: req.metadata,
        expiration_date: req.expiration_date,
    };
    let m = ops::update(&state, &tenant, id, change).await?;
    let mut out = item::item(&m);
    out["message"] = json!("Memory updated successfully!");
    Ok(Json(out))
}

/// The query of `DELETE /v1/memories/{memory_id}/`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteQuery {
    /// Accepted: memlane has no chains of superseded memories, so there is nothing linked to delete.
    #[serde(default)]
    #[allow(dead_code)]
    delete_linked: Option<bool>,
}

#[utoipa::path(
    delete, path = "/compat/mem0/v1/memories/{memory_id}/", tag = "compat-mem0", operation_id = "mem0PlatformDelete",
    summary = "mem0 platform: delete a memory",
    params(("memory_id" = uuid::Uuid, Path, description = "the memory's id")),
    params(DeleteQuery),
    responses(
        (status = 200, description = "deleted", body = schemas::Message),
        schemas::Errors,
        schemas::NotFound,
    )
)]
/// `DELETE /v1/memories/{memory_id}/`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
    ApiQuery(_q): ApiQuery<DeleteQuery>,
) -> Result<Json<Value>, ApiError> {
    ops::delete(&state, &tenant, id).await?;
    Ok(Json(ops::message("Memory deleted successfully!")))
}

/// The query of `DELETE /v1/memories/`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteAllQuery {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
}

#[utoipa::path(
    delete, path = "/compat/mem0/v1/memories/", tag = "compat-mem0", operation_id = "mem0PlatformDeleteAll",
    summary = "mem0 platform: delete the memories of a user, agent or run",
    params(DeleteAllQuery),
    responses(
        (status = 200, description = "deleted", body = schemas::Message),
        schemas::Errors,
    )
)]
/// `DELETE /v1/memories/?user_id=...`: every memory of the scope (one id at least).
pub(crate) async fn delete_all(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<DeleteAllQuery>,
) -> Result<Json<Value>, ApiError> {
    let scope = ops::mem0_scope(&tenant, q.user_id, q.agent_id, q.run_id);
    ops::forget(&state, scope).await?;
    Ok(Json(ops::message("Memories deleted successfully!")))
}

#[utoipa::path(
    get, path = "/compat/mem0/v1/memories/{memory_id}/history/", tag = "compat-mem0", operation_id = "mem0PlatformHistory",
    summary = "mem0 platform: a memory's history",
    params(("memory_id" = uuid::Uuid, Path, description = "the memory's id")),
    responses(
        (status = 200, description = "the history", body = Vec<schemas::HistoryEntry>),
        schemas::Errors,
        schemas::NotFound,
    )
)]
/// `GET /v1/memories/{memory_id}/history/`.
pub(crate) async fn history(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(item::history(&ops::get(&state, &tenant, id).await?)))
}
