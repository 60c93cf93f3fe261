//! The [`Embedder`] trait: text in, vectors out.

use std::fmt::Debug;

use crate::Result;

/// Computes embeddings of texts. Implementations are CPU-bound and synchronous; async callers run them on a blocking
/// thread.
pub trait Embedder: Send + Sync + Debug {
    /// The model's name, recorded with every vector it makes (e.g. `all-MiniLM-L6-v2`).
    fn model(&self) -> &str;

    /// The length of every vector.
    fn dimension(&self) -> usize;

    /// One L2-normalized vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}
