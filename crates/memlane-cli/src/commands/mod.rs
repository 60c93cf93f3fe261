//! The commands: one small module each, dispatched by [`run`].
//!
//! Every command gets the [`Context`] (global options, and the store opened on demand: commands that need no
//! store, such as `model fetch`, never open one) and its own arguments from [`crate::cli`].

mod add;
mod count;
mod delete;
mod embed;
mod export;
mod forget;
mod get;
mod import;
mod list;
mod mcp;
mod migrate;
mod model;
mod reindex;
mod repair;
mod search;
mod serve;
mod update;

use std::sync::Arc;

use memlane::{MemoryStore, Scope};

use crate::cli::{Cli, Command};
use crate::error::CliResult;
use crate::output::Printer;

/// What every command may use: the global options and the output.
#[derive(Debug)]
pub struct Context {
    /// The store URL (`--store` / `MEMLANE_STORE`).
    pub store_url: String,
    /// The tenant (`--tenant` / `MEMLANE_TENANT`).
    pub tenant: String,
    /// Where results go.
    pub out: Printer<std::io::Stdout>,
}

impl Context {
    /// Opens the store, after checking the tenant.
    pub async fn store(&self) -> CliResult<Arc<dyn MemoryStore>> {
        self.tenant_scope()?;
        Ok(memlane::open(&self.store_url).await?)
    }

    /// The whole tenant, checked (non-empty, no control characters, not too long).
    pub fn tenant_scope(&self) -> CliResult<Scope> {
        let scope = Scope::tenant(self.tenant.clone());
        scope.validate().map_err(|e| match e {
            memlane::Error::InvalidInput { message, .. } => {
                memlane::Error::invalid("tenant", message)
            }
            other => other,
        })?;
        Ok(scope)
    }
}

/// Runs the command the command line names.
pub async fn run(cli: Cli) -> CliResult {
    if let Command::Serve(args) = cli.command {
        let store = cli.store_from_flag.then_some(cli.store);
        return serve::run(args, store).await;
    }
    let mut ctx = Context {
        store_url: cli.store,
        tenant: cli.tenant,
        out: Printer::stdout(cli.json),
    };
    match cli.command {
        Command::Serve(_) => {}
        Command::Embed(args) => embed::run(&mut ctx, args).await?,
        Command::Add(args) => add::run(&mut ctx, args).await?,
        Command::Get(args) => get::run(&mut ctx, args).await?,
        Command::List(args) => list::run(&mut ctx, args).await?,
        Command::Search(args) => search::run(&mut ctx, args).await?,
        Command::Update(args) => update::run(&mut ctx, args).await?,
        Command::Delete(args) => delete::run(&mut ctx, args).await?,
        Command::Forget(args) => forget::run(&mut ctx, args).await?,
        Command::Count(args) => count::run(&mut ctx, args).await?,
        Command::Export(args) => export::run(&mut ctx, args).await?,
        Command::Import(args) => import::run(&mut ctx, args).await?,
        Command::Migrate(args) => migrate::run(&mut ctx, args).await?,
        Command::Reindex(args) => reindex::run(&mut ctx, args).await?,
        Command::Repair(args) => repair::run(&mut ctx, args).await?,
        Command::Mcp => mcp::run(&mut ctx).await?,
        Command::Model(cmd) => model::run(&mut ctx, cmd).await?,
    }
    ctx.out.flush()
}

/// A memlane error whose field is renamed from what the library calls it (`memories[0].content`) to what the user
/// typed (`content`), so that the message names the flag or argument to fix.
fn rename_field(e: memlane::Error, from_prefix: &str) -> memlane::Error {
    match e {
        memlane::Error::InvalidInput { field, message } => {
            let field = field.strip_prefix(from_prefix).unwrap_or(&field).to_owned();
            memlane::Error::invalid(field, message)
        }
        memlane::Error::TooLarge { field, size, limit } => {
            let field = field.strip_prefix(from_prefix).unwrap_or(&field).to_owned();
            memlane::Error::too_large(field, size, limit)
        }
        other => other,
    }
}
