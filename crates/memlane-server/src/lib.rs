//! # memlane-server
//!
//! memlane's HTTP server, as a library: the REST API under `/v1` over the whole [`memlane::MemoryStore`]
//! contract, API-key authentication that decides the tenant, limits (body size, timeout, load shedding), health
//! endpoints, Prometheus metrics and graceful shutdown.
//!
//! The binary stays thin: it builds a [`ServerConfig`] (from a TOML file and the environment) and calls [`serve`],
//! which binds, installs SIGTERM/SIGINT handling and calls [`run`]. Tests and embedders call [`run`] with their own
//! listener (port 0) and shutdown future:
//!
//! ```no_run
//! # async fn demo() -> memlane::Result<()> {
//! let config = memlane_server::ServerConfig::load(None)?;
//! let listener = tokio::net::TcpListener::bind(config.listen).await.expect("bind");
//! memlane_server::run(listener, config, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
//!
//! The parts, one concept per module: [`config`] (settings, API keys), [`manager`] (the store and its background
//! tasks), [`layers`] (tracing and metrics around the store), [`metrics`] (the Prometheus registry), `http` (the
//! router, middleware, routes and the OpenAPI document at `/openapi.json`), [`logging`] and the `server` entry
//! points.
//!
//! See `docs/server.md` for the API reference.
#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::unwrap_used)]

pub mod config;
mod http;
pub mod layers;
pub mod logging;
pub mod manager;
pub mod mcp;
pub mod metrics;
pub mod otel;
mod server;
mod shutdown;

pub use config::{ApiKey, AuthConfig, LogFormat, ServerConfig};
pub use logging::init_logging;
pub use manager::MemoryManager;
pub use server::{run, run_with_manager, serve};
pub use shutdown::signal;
