//! `memlane forget`: delete every memory of a user, agent or session; the whole tenant only with `--all`.

use memlane::Error;

use super::Context;
use crate::cli::ForgetArgs;
use crate::error::CliResult;

/// Deletes the scope's memories and prints how many.
pub async fn run(ctx: &mut Context, args: ForgetArgs) -> CliResult {
    if args.scope.is_empty() && !args.all {
        return Err(Error::invalid(
            "scope",
            format!(
                "refusing to forget every memory of tenant {:?}: narrow it with --user, --agent or --session, \
                 or pass --all to forget the whole tenant",
                ctx.tenant
            ),
        )
        .into());
    }
    let scope = args.scope.scope(&ctx.tenant);
    let store = ctx.store().await?;
    let n = store.forget(&scope).await?;
    ctx.out.forgotten(n, &scope)
}
