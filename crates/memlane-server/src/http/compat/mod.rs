//! mem0's REST API under `/compat/mem0`, deprecated from the start: an existing mem0 client points at memlane
//! unchanged while its code moves to `/v1`.
//!
//! Two sets of routes, both over the same store calls as `/v1` ([`ops`]):
//! - mem0's self-hosted server (its FastAPI app): `POST/GET/DELETE /memories`, `GET/PUT/DELETE /memories/{id}`,
//!   `GET /memories/{id}/history`, `POST /search`, `POST /reset`, `POST /configure` ([`server`]);
//! - the subset of mem0's platform API that `mem0.MemoryClient(host=".../compat/mem0")` uses for its core methods:
//!   `GET /v1/ping/`, `POST /v3/memories/add/`, `POST /v3/memories/`, `POST /v3/memories/search/`,
//!   `GET/PUT/DELETE /v1/memories/{id}/`, `DELETE /v1/memories/`, `GET /v1/memories/{id}/history/` ([`platform`]).
//!
//! Every answer, errors included, carries `Deprecation`, `Sunset` and a `Link` to the `/v1` successor; each
//! request counts in `memlane_compat_requests_total`, and each new client (tenant + User-Agent) gets one warning
//! in the log ([`deprecation`]). Errors have mem0's (FastAPI's) shape, `{"detail": "..."}`, plus memlane's `code`
//! and `request_id`. Authentication is `/v1`'s, plus mem0's `Authorization: Token <key>`. Anything else under the
//! prefix is a 404 naming the route as unsupported. See docs/migration/from-mem0.md.

mod deprecation;
mod filters;
mod item;
mod ops;
pub(super) mod platform;
mod routes;
pub(super) mod schemas;
pub(super) mod server;

use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use axum::Router;

use super::{auth, limits, AppState};

pub(crate) use routes::PREFIX;
#[cfg(test)]
pub(crate) use routes::ROUTES;

/// The router of `/compat/mem0` (to nest under [`PREFIX`]).
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        // mem0's self-hosted server.
        .route(
            "/memories",
            post(server::add)
                .get(server::get_all)
                .delete(server::delete_all),
        )
        .route(
            "/memories/{memory_id}",
            get(server::get).put(server::update).delete(server::delete),
        )
        .route("/memories/{memory_id}/history", get(server::history))
        .route("/search", post(server::search))
        .route("/reset", post(server::reset))
        .route("/configure", post(server::configure))
        // mem0's platform API, as MemoryClient speaks it.
        .route("/v1/ping/", get(platform::ping))
        .route("/v3/memories/add/", post(platform::add))
        .route("/v3/memories/", post(platform::get_all))
        .route("/v3/memories/search/", post(platform::search))
        .route(
            "/v1/memories/{memory_id}/",
            get(platform::get)
                .put(platform::update)
                .delete(platform::delete),
        )
        .route("/v1/memories/", delete(platform::delete_all))
        .route("/v1/memories/{memory_id}/history/", get(platform::history))
        .route_layer(from_fn_with_state(state.clone(), auth::compat_middleware))
        .fallback(routes::unsupported)
        .layer(from_fn_with_state(state.clone(), limits::timeout))
        .layer(from_fn_with_state(state.clone(), limits::load_shed))
        .layer(from_fn_with_state(
            deprecation::Deprecations::new(state),
            deprecation::middleware,
        ))
}
