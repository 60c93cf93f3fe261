//! `memlane delete ID`: delete one memory.

use super::Context;
use crate::cli::DeleteArgs;
use crate::error::CliResult;

/// Deletes the memory with this id.
pub async fn run(ctx: &mut Context, args: DeleteArgs) -> CliResult {
    let store = ctx.store().await?;
    store.delete(&ctx.tenant, args.id).await?;
    ctx.out.deleted(args.id)
}
