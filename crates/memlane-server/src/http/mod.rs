//! The HTTP side: the router, its shared state, middleware and routes.
//!
//! Middleware, outermost first: request id and error shaping ([`request_id`]), the request's span and HTTP metrics
//! ([`observe`]), panic catching, the body-size limit; on `/v1` also load shedding and the timeout ([`limits`]) and
//! authentication ([`auth`]). The deprecated mem0 compatibility routes live under `/compat/mem0` ([`compat`]).

mod auth;
mod compat;
pub(crate) mod dto;
mod error;
mod extract;
mod limits;
mod mcp;
mod observe;
mod openapi;
mod request_id;
mod routes;
mod traceparent;

use std::sync::Arc;

use memlane::MemoryStore;
use tokio::sync::Semaphore;

use crate::{MemoryManager, ServerConfig};

pub(crate) use routes::router;

/// What every handler and middleware shares.
#[derive(Clone, Debug)]
pub(crate) struct AppState {
    /// The store and its tasks.
    pub(crate) manager: Arc<MemoryManager>,
    /// The settings.
    pub(crate) config: Arc<ServerConfig>,
    /// Which key is which tenant.
    pub(crate) auth: Arc<auth::Authenticator>,
    /// Permits of concurrent `/v1` requests.
    pub(crate) permits: Arc<Semaphore>,
}

impl AppState {
    /// The state of a server.
    pub(crate) fn new(manager: Arc<MemoryManager>, config: ServerConfig) -> Self {
        AppState {
            manager,
            auth: Arc::new(auth::Authenticator::from_config(&config)),
            permits: Arc::new(Semaphore::new(
                config.max_concurrency.min(Semaphore::MAX_PERMITS),
            )),
            config: Arc::new(config),
        }
    }

    /// The store to serve.
    pub(crate) fn store(&self) -> &Arc<dyn MemoryStore> {
        self.manager.store()
    }
}
