//! `embed`: the embeddings of texts, from the local all-MiniLM-L6-v2 model (no store involved).

use memlane::Embedder;

use super::Context;
use crate::cli::EmbedArgs;
use crate::error::CliResult;

/// Loads the model (checking its checksum) and prints one vector per text.
pub async fn run(ctx: &mut Context, args: EmbedArgs) -> CliResult {
    let dir = args
        .model_dir
        .unwrap_or_else(memlane_embed::default_model_dir);
    let texts = args.texts;
    let (texts, vectors) = tokio::task::spawn_blocking(move || {
        let model = memlane_embed::MiniLm::load(&dir)?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let vectors = model.embed(&refs)?;
        Ok::<_, memlane::Error>((texts, vectors))
    })
    .await
    .map_err(|e| memlane::Error::internal("embed", e.to_string(), None))??;
    ctx.out.vectors(&texts, &vectors)
}
