//! The service routes: capabilities, health, metrics, and the answers for unknown routes and panics.

use std::any::Any;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::http::auth::Tenant;
use crate::http::dto::CapabilitiesResponse;
use crate::http::error::ApiError;
use crate::http::openapi::schemas as s;
use crate::http::AppState;
use crate::manager::Readiness;

#[utoipa::path(
    get, path = "/v1/capabilities", tag = "service", operation_id = "capabilities",
    summary = "What the store offers, and its limits",
    responses(
        (status = 200, description = "the capabilities", body = CapabilitiesResponse),
        (status = 401, description = "missing or wrong API key", body = s::Error),
        (status = 503, description = "store unavailable, overloaded or timed out; see Retry-After", body = s::Error),
    )
)]
/// `GET /v1/capabilities`: what the store offers, and its limits.
pub(crate) async fn capabilities(
    State(state): State<AppState>,
    _tenant: Tenant,
) -> Json<CapabilitiesResponse> {
    let store = state.store();
    Json(CapabilitiesResponse {
        backend: store.name().to_owned(),
        capabilities: store.capabilities(),
    })
}

#[utoipa::path(
    get, path = "/health/live", tag = "service", operation_id = "live", security(()),
    summary = "200 while the process serves",
    responses((status = 200, description = "alive", body = serde_json::Value, example = json!({"status": "ok"})))
)]
/// `GET /health/live`: 200 while the process serves.
pub(crate) async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(
    get, path = "/health/ready", tag = "service", operation_id = "ready", security(()),
    summary = "Whether the store is up and the server not draining",
    responses(
        (status = 200, description = "ready", body = s::Health),
        (status = 503, description = "not ready", body = s::Health),
    )
)]
/// `GET /health/ready`: 200 when every backend answered its last probe, 503 otherwise or while shutting down.
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    let report = state.manager.health();
    let status = if report.status == Readiness::Ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

#[utoipa::path(
    get, path = "/metrics", tag = "service", operation_id = "metrics", security(()),
    summary = "Prometheus metrics (OpenMetrics text)",
    responses((status = 200, description = "the metrics", content_type = "application/openmetrics-text", body = String))
)]
/// `GET /metrics`: the Prometheus (OpenMetrics) exposition.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let mut res = state.manager.metrics().render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    res
}

/// Any unknown route: 404 (the request-id layer words it).
pub(crate) async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// A handler panicked: 500, and the panic is logged.
pub(crate) fn panicked(err: Box<dyn Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = what, "a handler panicked");
    ApiError::internal().into_response()
}
