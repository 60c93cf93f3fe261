//! `/mcp`: memlane's MCP tools ([`crate::mcp`]) over the streamable HTTP transport, behind the same authentication
//! and limits as `/v1`.
//!
//! The transport runs stateless (no `Mcp-Session-Id`, JSON answers rather than event streams): every POST carries
//! its API key, is authenticated on its own and confined to that key's tenant, so a session can never outlive or
//! change its key, and any replica can answer any request. Without API keys, requests must be addressed to a
//! loopback host, as on `/v1` (against DNS rebinding).

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::{from_fn_with_state, map_request};
use axum::Router;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::auth::{self, Tenant};
use super::{limits, AppState};
use crate::mcp::{MemoryTools, RequestTenant};

/// The path of the MCP endpoint.
pub(crate) const PATH: &str = "/mcp";

/// The `/mcp` route with its middleware, to merge into the application.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let store = state.store().clone();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // The Host check of keyless servers is the authentication's, as on /v1; with keys any host name is fine.
        .disable_allowed_hosts()
        .with_max_request_body_bytes(state.config.max_body_bytes);
    let service = StreamableHttpService::new(
        move || Ok(MemoryTools::per_request(store.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(PATH, service)
        .route_layer(map_request(tenant_for_mcp))
        .route_layer(from_fn_with_state(state.clone(), auth::middleware))
        .layer(from_fn_with_state(state.clone(), limits::timeout))
        .layer(from_fn_with_state(state.clone(), limits::load_shed))
}

/// Hands the authenticated tenant to the MCP tools, which find it in the request's extensions.
async fn tenant_for_mcp(mut req: Request) -> Request {
    if let Some(Tenant(tenant)) = req.extensions().get::<Tenant>().cloned() {
        req.extensions_mut().insert(RequestTenant(tenant));
    }
    req
}
