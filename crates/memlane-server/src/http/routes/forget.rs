//! `POST /v1/forget`: deletes a whole user, agent, session, or (only when asked for explicitly) the whole tenant.

use axum::extract::State;
use axum::Json;

use crate::http::auth::Tenant;
use crate::http::dto::{scope, ForgetRequest, ForgetResponse};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::openapi::schemas as s;
use crate::http::AppState;

#[utoipa::path(
    post, path = "/v1/forget", tag = "memories", operation_id = "forget",
    summary = "Delete every memory of a scope",
    request_body = ForgetRequest,
    responses(
        (status = 200, description = "how many were deleted", body = ForgetResponse),
        (status = 400, description = "invalid input; `field` names it", body = s::Error),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 413, description = "body or value too large", body = s::Error),
        (status = 415, description = "wrong Content-Type (want application/json)", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// Forgets the scope; a scope of the whole tenant needs `"all": true`, and `all` excludes scope fields.
pub(crate) async fn forget(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(req): ApiJson<ForgetRequest>,
) -> Result<Json<ForgetResponse>, ApiError> {
    let scope = scope(&tenant, req.user, req.agent, req.session);
    match (scope.is_whole_tenant(), req.all) {
        (true, false) => {
            return Err(ApiError::invalid(
                "all",
                "this would forget every memory of the tenant: give user, agent or session, \
                 or set \"all\": true to forget them all",
            ))
        }
        (false, true) => {
            return Err(ApiError::invalid(
                "all",
                "give either \"all\": true or scope fields (user, agent, session), not both",
            ))
        }
        _ => {}
    }
    let deleted = state.store().forget(&scope).await?;
    tracing::info!(deleted, whole_tenant = req.all, "forgot memories");
    Ok(Json(ForgetResponse { deleted }))
}
