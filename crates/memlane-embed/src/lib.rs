//! # memlane-embed
//!
//! Local sentence-transformer embeddings for memlane: [`MiniLm`] runs all-MiniLM-L6-v2 (384 dimensions) in process
//! on the CPU, in Rust, with candle, and implements [`memlane_core::Embedder`]. [`CachedEmbedder`] puts a bounded
//! LRU cache keyed by content hash in front of any embedder.
//!
//! The model is not bundled: `scripts/fetch-model.sh` (or [`fetch_model`]) installs it into
//! [`default_model_dir`] (`$MEMLANE_MODEL_DIR`, else `~/.cache/memlane/models/all-MiniLM-L6-v2`), and
//! [`MiniLm::load`] checks its checksum. Nothing here touches the network at run time.
//!
//! ```no_run
//! use memlane_core::Embedder;
//! use memlane_embed::{CachedEmbedder, MiniLm};
//!
//! let model = CachedEmbedder::new(MiniLm::load_default()?);
//! let v = model.embed(&["The user prefers dark mode in the editor."])?;
//! assert_eq!((model.model(), v[0].len()), ("all-MiniLM-L6-v2", 384));
//! # Ok::<(), memlane_core::Error>(())
//! ```
//!
//! ## How it is fast
//! The texts of a batch are tokenized in parallel and packed back to back into one `[tokens, 384]` matrix with no
//! padding, so every projection and feed-forward layer is a single matrix product over real tokens only, and
//! attention runs per sequence and head in a fused kernel. The products use the encoder weights packed once at load
//! into the panel layout of a register-tiled kernel (AVX-512 / AVX2 / portable, picked at run time), stored as f16
//! (half the memory traffic, f32 arithmetic; `MEMLANE_EMBED_WEIGHTS=f32` keeps f32), so one short text costs a few
//! milliseconds. Biases, GELU, residuals and layer norms are fused custom ops. A call of fewer than 160 tokens runs
//! the whole encoder as one parallel region (a team pass: the pool's threads split every step and wait briefly for
//! each other between steps) instead of one fork-join per step. See `docs/embeddings.md` for figures.
#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::unwrap_used)]

mod bert;
mod cache;
mod fetch;
mod kernels;
mod minilm;
mod ops;
mod packed;
mod team;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;

pub use cache::{CacheStats, CachedEmbedder};
pub use fetch::{fetch_model, fetch_script_path, FETCH_COMMAND, FETCH_SCRIPT};
pub use minilm::{
    default_model_dir, MiniLm, DIMENSION, MAX_TOKENS, MODEL_DIR_ENV, MODEL_FILES, MODEL_NAME,
    MODEL_SHA256,
};
