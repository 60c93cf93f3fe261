//! `memlane count`: how many memories a scope (and filter) holds.

use super::Context;
use crate::cli::CountArgs;
use crate::error::CliResult;

/// Prints the count.
pub async fn run(ctx: &mut Context, args: CountArgs) -> CliResult {
    let scope = args.scope.scope(&ctx.tenant);
    let store = ctx.store().await?;
    let n = store.count(&scope, args.filter.as_ref()).await?;
    ctx.out.count(n)
}
