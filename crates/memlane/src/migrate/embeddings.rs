//! Which embeddings travel with a migration, and opening a destination so that the others are recomputed.
//!
//! Vectors are only comparable within one model. When the destination embeds with the same model (and dimension)
//! as a memory's vector, the vector travels as it is (no re-embedding: the fast path). Otherwise it is dropped, and
//! the destination's embedding layer computes a new one from the content. A destination without an embedder keeps
//! every vector as it came.

use std::sync::Arc;

use memlane_core::{Embedder, MemoryStore, NewMemory, Result};

use crate::OpenOptions;

/// What to do with the vectors of migrated memories.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EmbeddingPolicy {
    /// Keep every vector (the destination has no embedder of its own).
    #[default]
    Keep,
    /// Keep the vectors of this model and dimension; drop the others so the destination recomputes them.
    Model {
        /// The destination's model name.
        model: String,
        /// Its dimension.
        dimension: usize,
    },
    /// Drop every vector: the destination recomputes all of them.
    Recompute,
}

impl EmbeddingPolicy {
    /// The policy for a destination that embeds with `embedder` (or not at all).
    pub fn for_embedder(embedder: Option<&dyn Embedder>) -> Self {
        match embedder {
            Some(e) => EmbeddingPolicy::Model {
                model: e.model().to_owned(),
                dimension: e.dimension(),
            },
            None => EmbeddingPolicy::Keep,
        }
    }

    /// Applies the policy to one memory; returns whether a vector it carried was dropped.
    pub fn apply(&self, m: &mut NewMemory) -> bool {
        let keep = match (&m.embedding, self) {
            (None, _) | (Some(_), EmbeddingPolicy::Keep) => true,
            (Some(_), EmbeddingPolicy::Recompute) => false,
            (Some(e), EmbeddingPolicy::Model { model, dimension }) => {
                &e.model == model && e.vector.len() == *dimension
            }
        };
        if !keep {
            m.embedding = None;
        }
        !keep
    }
}

/// A migration's destination: the store, and the embedder its embedding layer uses, if any.
#[derive(Debug, Clone)]
pub struct Target {
    /// The store (wrapped in an [`crate::layers::EmbeddingLayer`] when it embeds).
    pub store: Arc<dyn MemoryStore>,
    /// The embedder that fills missing vectors.
    pub embedder: Option<Arc<dyn Embedder>>,
}

impl Target {
    /// The embedding policy this destination calls for.
    pub fn policy(&self) -> EmbeddingPolicy {
        EmbeddingPolicy::for_embedder(self.embedder.as_deref())
    }
}

/// Opens a destination URL like [`crate::open`] does (same options: `embedder=auto|minilm|none`, `model_dir`),
/// but also returns the embedder, so that the migration knows which vectors can travel.
pub async fn open_target(url: &str) -> Result<Target> {
    let mut opts = OpenOptions::parse(url)?;
    let embedder = take_embedder(&mut opts)?;
    opts.options.insert("embedder".into(), "none".into());
    if let Some(e) = &embedder {
        // As the factory does: a local store records the model it embeds with.
        if matches!(opts.scheme.as_str(), "embedded" | "file" | "vector") {
            opts.options
                .insert("embedding_model".into(), e.model().to_owned());
        }
    }
    let inner = crate::open_with(opts).await?;
    Ok(match embedder {
        Some(e) => Target {
            store: Arc::new(crate::layers::EmbeddingLayer::new(inner, e.clone())),
            embedder: Some(e),
        },
        None => Target {
            store: inner,
            embedder: None,
        },
    })
}

/// Opens a migration's source: the store without any embedder (reading never embeds, and loading a model costs
/// time), unless the URL asks for one.
pub async fn open_source(url: &str) -> Result<Arc<dyn MemoryStore>> {
    let mut opts = OpenOptions::parse(url)?;
    opts.options
        .entry("embedder".into())
        .or_insert_with(|| "none".into());
    crate::open_with(opts).await
}

#[cfg(feature = "embed")]
fn take_embedder(opts: &mut OpenOptions) -> Result<Option<Arc<dyn Embedder>>> {
    crate::embedder::from_options(opts)
}

#[cfg(not(feature = "embed"))]
fn take_embedder(opts: &mut OpenOptions) -> Result<Option<Arc<dyn Embedder>>> {
    match opts.options.remove("embedder").as_deref() {
        None | Some("auto") | Some("none") => Ok(None),
        Some(other) => Err(memlane_core::Error::invalid(
            "store option embedder",
            format!("{other:?} needs memlane's `embed` feature: use auto or none"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memlane_core::{Embedding, Scope};

    fn with(model: &str, dim: usize) -> NewMemory {
        NewMemory::new(Scope::tenant("t"), "x").embedding(Embedding {
            model: model.into(),
            vector: vec![0.5; dim],
        })
    }

    #[test]
    fn keeps_only_matching_vectors() {
        let p = EmbeddingPolicy::Model {
            model: "m".into(),
            dimension: 3,
        };
        let mut same = with("m", 3);
        assert!(!p.apply(&mut same));
        assert!(same.embedding.is_some());
        for mut other in [with("m", 4), with("n", 3)] {
            assert!(p.apply(&mut other));
            assert!(other.embedding.is_none());
        }
        let mut kept = with("n", 2);
        assert!(!EmbeddingPolicy::Keep.apply(&mut kept));
        assert!(EmbeddingPolicy::Recompute.apply(&mut kept));
        let mut none = NewMemory::new(Scope::tenant("t"), "x");
        assert!(!EmbeddingPolicy::Recompute.apply(&mut none));
    }
}
