//! Load shedding and the request timeout, on `/v1`.
//!
//! At most `max_concurrency` requests are served at once; one more is answered at once with 503 and
//! `Retry-After` instead of waiting in a queue that only grows under overload. A request that takes longer than
//! `request_timeout` is answered 503 with `Retry-After` (its work is abandoned).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;

/// Refuses the request when every permit is taken.
pub(crate) async fn load_shed(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_permit) = state.permits.clone().try_acquire_owned() else {
        state.manager.metrics().http_rejected("overloaded");
        return ApiError::unavailable(format!(
            "the server is at its limit of {} concurrent requests: retry later",
            state.config.max_concurrency
        ))
        .into_response();
    };
    next.run(req).await
}

/// Answers 503 when the request takes longer than `request_timeout`.
pub(crate) async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            state.manager.metrics().http_rejected("timeout");
            tracing::warn!(timeout = ?limit, "request timed out");
            ApiError::unavailable(format!(
                "the request took longer than {limit:?}: retry later"
            ))
            .into_response()
        }
    }
}
