//! `model`: the local embedding model. `model fetch` downloads and verifies it (no store involved).

use super::Context;
use crate::cli::ModelCommand;
use crate::error::CliResult;

/// Runs a `model` subcommand.
pub async fn run(ctx: &mut Context, cmd: ModelCommand) -> CliResult {
    match cmd {
        ModelCommand::Fetch { dir } => {
            let dir = dir.unwrap_or_else(memlane_embed::default_model_dir);
            let target = dir.clone();
            tokio::task::spawn_blocking(move || memlane_embed::fetch_model(&target))
                .await
                .map_err(|e| memlane::Error::internal("model", e.to_string(), None))??;
            ctx.out.model_ready(&dir)
        }
    }
}
