//! `memlane search TEXT`: the best matches, best first.

use memlane::SearchQuery;

use super::Context;
use crate::cli::SearchArgs;
use crate::error::CliResult;

/// Prints the matches with their scores.
pub async fn run(ctx: &mut Context, args: SearchArgs) -> CliResult {
    let mut query = SearchQuery::new(args.scope.scope(&ctx.tenant), args.text);
    query.mode = args.mode.unwrap_or_default();
    query.filter = args.filter;
    query.min_score = args.min_score;
    if let Some(n) = args.limit {
        query.limit = n;
    }
    let store = ctx.store().await?;
    let hits = store.search(&query).await?;
    ctx.out.scored(&hits)
}
