//! The routes, and the router that ties them to the middleware.
//!
//! | route | handler |
//! |---|---|
//! | `POST /v1/memories` | [`memories::add`] |
//! | `POST /v1/memories/get` | [`memories::get_many`] |
//! | `POST /v1/memories/list` | [`read::list`] |
//! | `GET /v1/memories/{id}` | [`memories::get`] |
//! | `PATCH /v1/memories/{id}` | [`memories::update`] |
//! | `DELETE /v1/memories/{id}` | [`memories::delete`] |
//! | `POST /v1/search` | [`read::search`] |
//! | `POST /v1/count` | [`read::count`] |
//! | `POST /v1/forget` | [`forget::forget`] |
//! | `GET /v1/export` | [`portability::export`] |
//! | `POST /v1/import` | [`portability::import`] |
//! | `GET /v1/capabilities` | [`service::capabilities`] |
//! | `GET /health/live`, `GET /health/ready` | [`service::live`], [`service::ready`] |
//! | `GET /metrics` | [`service::metrics`] |
//! | `GET /openapi.json` | the OpenAPI document ([`super::openapi`]) |
//! | `GET /docs`, `GET /docs/redoc.standalone.js` | the API reference page and its vendored script |
//! | `/compat/mem0/...` | mem0's REST API, deprecated ([`super::compat`]; unless `[compat] enabled = false`) |

// Visible to `super::openapi`, which lists the handlers' `#[utoipa::path]`s.
pub(super) mod forget;
pub(super) mod memories;
pub(super) mod portability;
pub(super) mod read;
pub(super) mod service;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use super::{auth, limits, observe, openapi, request_id, AppState};

/// Every route, as (path pattern, method): the tests check it against the router and the OpenAPI document.
#[cfg(test)]
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("/v1/memories", "POST"),
    ("/v1/memories/get", "POST"),
    ("/v1/memories/list", "POST"),
    ("/v1/memories/{id}", "GET"),
    ("/v1/memories/{id}", "PATCH"),
    ("/v1/memories/{id}", "DELETE"),
    ("/v1/search", "POST"),
    ("/v1/count", "POST"),
    ("/v1/forget", "POST"),
    ("/v1/export", "GET"),
    ("/v1/import", "POST"),
    ("/v1/capabilities", "GET"),
    ("/health/live", "GET"),
    ("/health/ready", "GET"),
    ("/metrics", "GET"),
    ("/openapi.json", "GET"),
    ("/docs", "GET"),
    ("/docs/redoc.standalone.js", "GET"),
];

/// The whole application.
pub(crate) fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/memories", post(memories::add))
        .route("/memories/get", post(memories::get_many))
        .route("/memories/list", post(read::list))
        .route(
            "/memories/{id}",
            get(memories::get)
                .patch(memories::update)
                .delete(memories::delete),
        )
        .route("/search", post(read::search))
        .route("/count", post(read::count))
        .route("/forget", post(forget::forget))
        .route("/export", get(portability::export))
        .route(
            "/import",
            post(portability::import).layer(DefaultBodyLimit::max(state.config.max_import_bytes)),
        )
        .route("/capabilities", get(service::capabilities))
        .route_layer(from_fn_with_state(state.clone(), auth::middleware))
        .layer(from_fn_with_state(state.clone(), limits::timeout))
        .layer(from_fn_with_state(state.clone(), limits::load_shed));

    let mut app = Router::new().nest("/v1", v1);
    if state.config.compat.enabled {
        app = app.nest(super::compat::PREFIX, super::compat::router(&state));
    }
    app.route("/health/live", get(service::live))
        .route("/health/ready", get(service::ready))
        .route("/metrics", get(service::metrics))
        .route("/openapi.json", get(openapi::serve))
        .route("/docs", get(openapi::docs_page))
        .route(openapi::DOCS_ASSET_PATH, get(openapi::docs_asset))
        .merge(super::mcp::router(&state))
        .fallback(service::not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(CatchPanicLayer::custom(service::panicked))
        .layer(from_fn_with_state(state.clone(), observe::middleware))
        .layer(from_fn_with_state(state.clone(), request_id::middleware))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use tower::ServiceExt as _;

    use super::*;
    use crate::{ApiKey, MemoryManager, ServerConfig};

    /// Every route of [`ROUTES`] is served: an unauthenticated request gets 401 (auth runs on matched routes
    /// only) or an answer, never "no route" (404/405).
    #[tokio::test]
    async fn routes_table_matches_the_router() {
        let dir = tempfile::tempdir().expect("tmp");
        let config = ServerConfig::default()
            .with_store(dir.path().display().to_string())
            .with_key(ApiKey::from_secret("t", "0123456789abcdef0123"));
        let manager = MemoryManager::open(&config).await.expect("open");
        let app = router(AppState::new(Arc::new(manager), config));
        for (path, method) in ROUTES.iter().chain(super::super::compat::ROUTES) {
            let uri = path
                .replace("{id}", "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b")
                .replace("{memory_id}", "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b");
            let req = Request::builder()
                .method(Method::from_bytes(method.as_bytes()).expect("method"))
                .uri(&uri)
                .body(Body::empty())
                .expect("request");
            let res = app.clone().oneshot(req).await.expect("infallible");
            assert!(
                res.status() != StatusCode::NOT_FOUND
                    && res.status() != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {}",
                res.status()
            );
            if path.starts_with("/v1/") || path.starts_with("/compat/") {
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            }
        }
    }
}
