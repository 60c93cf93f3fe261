//! MCP over stdio: the host starts `memlane mcp` and speaks JSON-RPC on its stdin and stdout.
//!
//! stdout carries the protocol only, so logs go to stderr ([`init_stderr_logging`]), where hosts such as Claude
//! Desktop collect them.

use memlane::Error;
use rmcp::ServiceExt as _;
use tracing_subscriber::EnvFilter;

use super::MemoryTools;

/// Serves the tools on stdin and stdout until the host closes stdin (or ends the session).
pub async fn serve_stdio(tools: MemoryTools) -> memlane::Result<()> {
    tracing::info!(?tools, "serving MCP on stdio");
    let running = tools.serve(rmcp::transport::stdio()).await.map_err(|e| {
        Error::unavailable(
            "mcp",
            format!("the MCP session did not start: {e}"),
            Some(Box::new(e)),
        )
    })?;
    let reason = running.waiting().await.map_err(|e| {
        Error::internal(
            "mcp",
            format!("the MCP service stopped abnormally: {e}"),
            Some(Box::new(e)),
        )
    })?;
    tracing::info!(?reason, "MCP session over stdio ended");
    Ok(())
}

/// Installs a global log subscriber that writes text lines to stderr, filtered by `RUST_LOG` (default `info`).
/// Returns `false` (and changes nothing) when a subscriber is already installed.
pub fn init_stderr_logging() -> bool {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init()
        .is_ok()
}
