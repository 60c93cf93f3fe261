//! Test helpers, only with the `test-util` feature (and in this crate's own tests): a deterministic
//! [`HashEmbedder`] that needs no model, and a [`CountingEmbedder`] that counts what reaches its inner embedder.
//! Never use them for real vectors.

use std::sync::atomic::{AtomicU64, Ordering};

use memlane_core::{Embedder, Result};
use sha2::{Digest, Sha256};

/// A deterministic bag-of-words embedder for tests: each lowercase word adds a pseudo-random unit direction
/// chosen by its SHA-256, and the sum is L2-normalized. Texts sharing words are similar; the same text always gives
/// the same vector. Its model name is `test-hash-<dimension>`.
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dimension: usize,
    name: String,
}

impl HashEmbedder {
    /// An embedder of `dimension`-long vectors (at least 1).
    pub fn new(dimension: usize) -> Self {
        let dimension = dimension.max(1);
        Self {
            dimension,
            name: format!("test-hash-{dimension}"),
        }
    }

    fn one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; self.dimension];
        let words = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase);
        for word in words {
            let digest = Sha256::digest(word.as_bytes());
            for (i, x) in v.iter_mut().enumerate() {
                let byte = digest[i % digest.len()].rotate_left((i / digest.len()) as u32);
                *x += f32::from(byte) / 127.5 - 1.0;
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        } else {
            v[0] = 1.0;
        }
        v
    }
}

impl Embedder for HashEmbedder {
    fn model(&self) -> &str {
        &self.name
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.one(t)).collect())
    }
}

/// Wraps an embedder and counts the calls and texts that reach it.
#[derive(Debug)]
pub struct CountingEmbedder<E> {
    inner: E,
    calls: AtomicU64,
    texts: AtomicU64,
}

impl<E> CountingEmbedder<E> {
    /// Counts what reaches `inner`.
    pub fn new(inner: E) -> Self {
        Self {
            inner,
            calls: AtomicU64::new(0),
            texts: AtomicU64::new(0),
        }
    }

    /// Calls of [`Embedder::embed`] so far (empty calls included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Texts passed to [`Embedder::embed`] so far.
    pub fn texts_embedded(&self) -> u64 {
        self.texts.load(Ordering::Relaxed)
    }
}

impl<E: Embedder> Embedder for CountingEmbedder<E> {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.texts.fetch_add(texts.len() as u64, Ordering::Relaxed);
        self.inner.embed(texts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_embedder_is_deterministic_and_normalized() -> Result<()> {
        let e = HashEmbedder::new(32);
        let a = e.embed(&["The cat sat", "the CAT sat", "dogs run fast", ""])?;
        assert_eq!(a[0], a[1]);
        assert_ne!(a[0], a[2]);
        for v in &a {
            let n: f32 = v.iter().map(|x| x * x).sum();
            assert!((n - 1.0).abs() < 1e-5);
        }
        Ok(())
    }
}
