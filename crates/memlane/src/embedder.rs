//! The factory's `embedder` option: which local model, if any, fills embeddings.

use std::path::PathBuf;
use std::sync::Arc;

use memlane_core::{Embedder, Error, Result};
use memlane_embed::{CachedEmbedder, MiniLm, FETCH_COMMAND, MODEL_FILES};

use crate::OpenOptions;

/// Takes `embedder` and `model_dir` from the options: the embedder to wrap the store with, or none.
pub(crate) fn from_options(opts: &mut OpenOptions) -> Result<Option<Arc<dyn Embedder>>> {
    let choice = opts
        .options
        .remove("embedder")
        .unwrap_or_else(|| "auto".into());
    let dir = opts
        .options
        .remove("model_dir")
        .map(PathBuf::from)
        .unwrap_or_else(memlane_embed::default_model_dir);
    let present = MODEL_FILES.iter().all(|f| dir.join(f).is_file());
    match choice.as_str() {
        "none" => Ok(None),
        "auto" if !present => Ok(None),
        "auto" | "minilm" => {
            if !present {
                return Err(Error::invalid(
                    "store option embedder",
                    format!(
                        "the model is not in {}: fetch it with {FETCH_COMMAND}",
                        dir.display()
                    ),
                ));
            }
            Ok(Some(Arc::new(CachedEmbedder::new(MiniLm::load(&dir)?))))
        }
        other => Err(Error::invalid(
            "store option embedder",
            format!("{other:?} is not an embedder: use auto, minilm or none"),
        )),
    }
}
