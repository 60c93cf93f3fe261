//! `memlane mcp`: memlane's tools over the Model Context Protocol on stdin and stdout, for agent hosts that start
//! their MCP servers as programs (Claude Desktop, IDEs). One tenant (`--tenant`), the store of `--store`; logs go to
//! stderr only (stdout carries the protocol). See docs/mcp.md.

use super::Context;
use crate::error::CliResult;

/// Serves the MCP tools on stdio until the host closes stdin.
pub async fn run(ctx: &mut Context) -> CliResult {
    memlane_server::mcp::init_stderr_logging();
    let store = ctx.store().await?;
    let tools = memlane_server::mcp::MemoryTools::new(store, ctx.tenant.clone());
    memlane_server::mcp::serve_stdio(tools).await?;
    Ok(())
}
