//! Queries over a scope: list, search, count.

use axum::extract::State;
use axum::Json;
use memlane::{ListQuery, Page, SearchQuery, DEFAULT_LIMIT};

use crate::http::auth::Tenant;
use crate::http::dto::{
    scope, CountRequest, CountResponse, ListRequest, SearchRequest, SearchResponse,
};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::openapi::schemas as s;
use crate::http::AppState;

#[utoipa::path(
    post, path = "/v1/memories/list", tag = "queries", operation_id = "listMemories",
    summary = "A page of memories in a scope, newest first",
    request_body = ListRequest,
    responses(
        (status = 200, description = "a page", body = s::Page),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 413, description = "body or value too large", body = s::Error),
        (status = 415, description = "wrong Content-Type (want application/json)", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `POST /v1/memories/list`: a page, newest first; `next` continues it.
pub(crate) async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<ListRequest>,
) -> Result<Json<Page>, ApiError> {
    let query = ListQuery {
        scope: scope(&tenant, req.user, req.agent, req.session),
        filter: req.filter,
        limit: req.limit.unwrap_or(DEFAULT_LIMIT),
        cursor: req.cursor,
        embeddings: req.embeddings.unwrap_or(true),
    };
    Ok(Json(state.store().list(&query).await?))
}

#[utoipa::path(
    post, path = "/v1/search", tag = "queries", operation_id = "search",
    summary = "The best matches, best first",
    request_body = SearchRequest,
    responses(
        (status = 200, description = "the matches", body = SearchResponse),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 413, description = "body or value too large", body = s::Error),
        (status = 415, description = "wrong Content-Type (want application/json)", body = s::Error),
        (status = 501, description = "the store lacks the capability", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `POST /v1/search`: the best matches, best first.
pub(crate) async fn search(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<SearchRequest>,
) -> Result<Json<SearchResponse>, ApiError> {
    let query = SearchQuery {
        scope: scope(&tenant, req.user, req.agent, req.session),
        text: req.text,
        mode: req.mode,
        filter: req.filter,
        limit: req.limit.unwrap_or(DEFAULT_LIMIT),
        min_score: req.min_score,
        embedding: req.embedding,
    };
    let results = state.store().search(&query).await?;
    Ok(Json(SearchResponse { results }))
}

#[utoipa::path(
    post, path = "/v1/count", tag = "queries", operation_id = "count",
    summary = "How many memories in a scope pass a filter",
    request_body = CountRequest,
    responses(
        (status = 200, description = "the count", body = CountResponse),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 413, description = "body or value too large", body = s::Error),
        (status = 415, description = "wrong Content-Type (want application/json)", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `POST /v1/count`: how many memories in the scope pass the filter.
pub(crate) async fn count(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<CountRequest>,
) -> Result<Json<CountResponse>, ApiError> {
    let scope = scope(&tenant, req.user, req.agent, req.session);
    let count = state.store().count(&scope, req.filter.as_ref()).await?;
    Ok(Json(CountResponse { count }))
}
