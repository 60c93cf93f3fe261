//! `memlane get ID`: print one memory.

use super::Context;
use crate::cli::GetArgs;
use crate::error::CliResult;

/// Prints the memory with this id.
pub async fn run(ctx: &mut Context, args: GetArgs) -> CliResult {
    let store = ctx.store().await?;
    let m = store.get(&ctx.tenant, args.id).await?;
    ctx.out.memory(&m, false)
}
