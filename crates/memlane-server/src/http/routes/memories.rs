//! One memory, or a batch of them by id: add, get, update, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use memlane::{AddOptions, Memory, Update};

use crate::http::auth::Tenant;
use crate::http::dto::{AddRequest, AddResponse, GetManyRequest, MemoriesResponse};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, IdPath};
use crate::http::openapi::schemas as s;
use crate::http::AppState;

#[utoipa::path(
    post, path = "/v1/memories", tag = "memories", operation_id = "addMemories",
    summary = "Add a batch of memories (all or nothing)",
    request_body = AddRequest,
    responses(
        (status = 200, description = "each memory, created or already there", body = AddResponse),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 409, description = "version mismatch or id reused", body = s::Error),
        (status = 413, description = "body or value too large", body = s::Error),
        (status = 415, description = "wrong Content-Type (want application/json)", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `POST /v1/memories`: adds a batch, all or nothing; each result says whether it was created or already there.
pub(crate) async fn add(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<AddRequest>,
) -> Result<Json<AddResponse>, ApiError> {
    let batch = req
        .memories
        .into_iter()
        .map(|m| m.into_new(&tenant))
        .collect();
    let results = state
        .store()
        .add(batch, AddOptions { dedup: req.dedup })
        .await?;
    Ok(Json(AddResponse { results }))
}

#[utoipa::path(
    get, path = "/v1/memories/{id}", tag = "memories", operation_id = "getMemory",
    summary = "One memory",
    params(("id" = uuid::Uuid, Path, description = "the memory's id")),
    responses(
        (status = 200, description = "the memory", body = s::Memory),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 404, description = "no such memory in the tenant", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `GET /v1/memories/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<Json<Memory>, ApiError> {
    Ok(Json(state.store().get(&tenant, id).await?))
}

#[utoipa::path(
    post, path = "/v1/memories/get", tag = "memories", operation_id = "getMemories",
    summary = "Memories by id, in order; missing ones left out",
    request_body = GetManyRequest,
    responses(
        (status = 200, description = "the memories", body = MemoriesResponse),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 413, description = "body or value too large", body = s::Error),
        (status = 415, description = "wrong Content-Type (want application/json)", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `POST /v1/memories/get`: the memories with these ids, in order; missing ones left out.
pub(crate) async fn get_many(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<GetManyRequest>,
) -> Result<Json<MemoriesResponse>, ApiError> {
    let memories = state.store().get_many(&tenant, &req.ids).await?;
    Ok(Json(MemoriesResponse { memories }))
}

#[utoipa::path(
    patch, path = "/v1/memories/{id}", tag = "memories", operation_id = "updateMemory",
    summary = "Change a memory (optimistic concurrency with expected_version)",
    params(("id" = uuid::Uuid, Path, description = "the memory's id")),
    request_body = s::Update,
    responses(
        (status = 200, description = "the new state", body = s::Memory),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 404, description = "no such memory in the tenant", body = s::Error),
        (status = 409, description = "version mismatch or id reused", body = s::Error),
        (status = 413, description = "body or value too large", body = s::Error),
        (status = 415, description = "wrong Content-Type (want application/json)", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `PATCH /v1/memories/{id}`: the new state; 409 when `expected_version` is not the stored one.
pub(crate) async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
    ApiJson(update): ApiJson<Update>,
) -> Result<Json<Memory>, ApiError> {
    Ok(Json(state.store().update(&tenant, id, update).await?))
}

#[utoipa::path(
    delete, path = "/v1/memories/{id}", tag = "memories", operation_id = "deleteMemory",
    summary = "Delete a memory",
    params(("id" = uuid::Uuid, Path, description = "the memory's id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 404, description = "no such memory in the tenant", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `DELETE /v1/memories/{id}`: 204, or 404.
pub(crate) async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.store().delete(&tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
