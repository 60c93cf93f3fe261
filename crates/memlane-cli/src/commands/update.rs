//! `memlane update ID`: change a memory's content, metadata, kind or expiry.

use memlane::{Error, Update};

use super::Context;
use crate::cli::UpdateArgs;
use crate::error::CliResult;

/// Applies the change and prints the new state.
pub async fn run(ctx: &mut Context, args: UpdateArgs) -> CliResult {
    let update = Update {
        content: args.content,
        metadata: args.meta,
        kind: args.kind,
        expires_at: args.no_expiry.then_some(None),
        ttl: args.ttl,
        embedding: None,
        expected_version: args.expected_version,
    };
    if update.is_empty() {
        return Err(Error::invalid(
            "update",
            "nothing to change: give --content, --meta, --kind, --ttl or --no-expiry",
        )
        .into());
    }
    if update.content.as_ref().is_some_and(|c| c.trim().is_empty()) {
        return Err(Error::invalid("content", "must not be empty").into());
    }
    let store = ctx.store().await?;
    let m = store.update(&ctx.tenant, args.id, update).await?;
    ctx.out.memory(&m, false)
}
