//! `memlane list`: a page of memories, newest first.

use memlane::ListQuery;

use super::Context;
use crate::cli::ListArgs;
use crate::error::CliResult;

/// Prints one page, and the cursor of the next when there is more.
pub async fn run(ctx: &mut Context, args: ListArgs) -> CliResult {
    let mut query = ListQuery::new(args.scope.scope(&ctx.tenant)).cursor(args.cursor);
    query.filter = args.filter;
    if let Some(n) = args.limit {
        query.limit = n;
    }
    let store = ctx.store().await?;
    let page = store.list(&query).await?;
    ctx.out.page(&page)
}
