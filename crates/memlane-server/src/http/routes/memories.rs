//! One memory, or a batch of them by id: add, get, update, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use memlane::{AddOptions, Memory, Update};

use crate::http::auth::Tenant;
use crate::http::dto::{AddRequest, AddResponse, GetManyRequest, MemoriesResponse};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, IdPath};
use crate::http::AppState;

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

/// `GET /v1/memories/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<Json<Memory>, ApiError> {
    Ok(Json(state.store().get(&tenant, id).await?))
}

/// `POST /v1/memories/get`: the memories with these ids, in order; missing ones left out.
pub(crate) async fn get_many(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<GetManyRequest>,
) -> Result<Json<MemoriesResponse>, ApiError> {
    let memories = state.store().get_many(&tenant, &req.ids).await?;
    Ok(Json(MemoriesResponse { memories }))
}

/// `PATCH /v1/memories/{id}`: the new state; 409 when `expected_version` is not the stored one.
pub(crate) async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
    ApiJson(update): ApiJson<Update>,
) -> Result<Json<Memory>, ApiError> {
    Ok(Json(state.store().update(&tenant, id, update).await?))
}

/// `DELETE /v1/memories/{id}`: 204, or 404.
pub(crate) async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    state.store().delete(&tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
