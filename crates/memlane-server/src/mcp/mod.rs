//! memlane over the Model Context Protocol (MCP): the operations of the REST API (`add`, `get`, `update`,
//! `delete`, `list`, `search`, `count`, `forget`) as MCP tools, so that agent hosts (Claude Desktop, IDEs, agent
//! frameworks) use memlane directly.
//!
//! Two transports, one set of tools ([`MemoryTools`], built on the official Rust SDK, `rmcp`):
//! - **Streamable HTTP** at `/mcp` on the server ([`crate::run`]). It is stateless (no MCP session is kept: each
//!   POST is authenticated and answered on its own, so any replica can serve any request) and sits behind the same
//!   middleware as `/v1`: the API key decides the tenant of every call, and the body limit, timeout and
//!   concurrency limit apply.
//! - **stdio** ([`serve_stdio`], the `memlane mcp` command): one tenant, fixed when the process starts; logs go to
//!   stderr only, stdout carries the protocol.
//!
//! Tools answer with structured content (and the same JSON as text); a failed operation is a tool error
//! (`isError: true`) with memlane's stable error code (see `docs/mcp.md`).

mod params;
mod result;
mod stdio;
mod tools;

use std::sync::Arc;

use memlane::MemoryStore;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tracing::Instrument;

pub use stdio::{init_stderr_logging, serve_stdio};

/// What the server tells hosts about itself when they connect.
const INSTRUCTIONS: &str = "memlane is a long-term memory for agents. Use `search` to recall what is known \
(about the user, past conversations, how to do things) before answering, and `add` to remember what should \
outlive this conversation: one self-contained statement per memory, with the user (and agent or session) it \
belongs to. `kind` is fact (default), episode, procedure or message. Failed calls return an error object with \
a stable `code` (invalid_input, not_found, conflict, too_large, unsupported, unavailable, internal).";

/// The tenant of an HTTP request, put into the request's extensions by the server's authentication.
#[derive(Debug, Clone)]
pub(crate) struct RequestTenant(pub(crate) String);

/// Whose memories the tools act on.
#[derive(Debug, Clone)]
enum Tenancy {
    /// Always this tenant (stdio).
    Fixed(Arc<str>),
    /// The authenticated tenant of each HTTP request ([`RequestTenant`]).
    PerRequest,
}

/// The MCP server: memlane's tools over a store, for one tenant or for the authenticated tenant of each request.
///
/// ```no_run
/// # async fn demo() -> memlane::Result<()> {
/// let store = memlane::open("./memlane-data").await?;
/// let tools = memlane_server::mcp::MemoryTools::new(store, "default");
/// memlane_server::mcp::serve_stdio(tools).await
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryTools {
    store: Arc<dyn MemoryStore>,
    tenancy: Tenancy,
}

impl std::fmt::Debug for MemoryTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTools")
            .field("store", &self.store.name())
            .field("tenancy", &self.tenancy)
            .finish()
    }
}

impl MemoryTools {
    /// The tools over `store`, every call in `tenant`.
    pub fn new(store: Arc<dyn MemoryStore>, tenant: impl Into<String>) -> Self {
        MemoryTools {
            store,
            tenancy: Tenancy::Fixed(tenant.into().into()),
        }
    }

    /// The tools over `store`, each call in the tenant its HTTP request authenticated as.
    pub(crate) fn per_request(store: Arc<dyn MemoryStore>) -> Self {
        MemoryTools {
            store,
            tenancy: Tenancy::PerRequest,
        }
    }

    /// The tenant of a call.
    fn tenant(&self, ctx: &RequestContext<RoleServer>) -> Result<Arc<str>, ErrorData> {
        match &self.tenancy {
            Tenancy::Fixed(t) => Ok(t.clone()),
            Tenancy::PerRequest => ctx
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|p| p.extensions.get::<RequestTenant>())
                .map(|t| Arc::from(t.0.as_str()))
                .ok_or_else(|| {
                    tracing::error!(
                        "an MCP call over HTTP arrived without an authenticated tenant"
                    );
                    ErrorData::internal_error("internal error: no authenticated tenant", None)
                }),
        }
    }
}

impl ServerHandler for MemoryTools {
    fn get_info(&self) -> ServerConfig {
        let mut implementation = Implementation::new("memlane", env!("CARGO_PKG_VERSION"));
        implementation.title = Some("memlane memory".to_owned());
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(implementation)
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::catalogue().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::catalogue().iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let tenant = self.tenant(&ctx)?;
        let name = request.name;
        let span = tracing::info_span!("mcp_tool", tool = %name, tenant = %tenant);
        let args = request.arguments.unwrap_or_default();
        match tools::call(&self.store, &tenant, &name, args)
            .instrument(span)
            .await
        {
            Some(result) => Ok(result.into()),
            None => Err(ErrorData::invalid_params(
                format!(
                    "no tool {name:?}: the tools are add, get, update, delete, list, search, count, forget"
                ),
                None,
            )),
        }
    }
}
