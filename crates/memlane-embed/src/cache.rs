//! [`CachedEmbedder`]: a bounded LRU cache of vectors keyed by content hash, in front of any [`Embedder`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use memlane_core::{Embedder, Error, Result};
use sha2::{Digest, Sha256};

/// The SHA-256 of a text: the same hash as [`memlane_core::content_hash`], kept as bytes.
type Key = [u8; 32];

fn key(text: &str) -> Key {
    Sha256::digest(text.as_bytes()).into()
}

/// A least-recently-used map from content hash to vector.
struct Lru {
    capacity: usize,
    tick: u64,
    entries: HashMap<Key, (Vec<f32>, u64)>,
    order: BTreeMap<u64, Key>,
}

impl Lru {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn get(&mut self, key: &Key) -> Option<Vec<f32>> {
        let (vector, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        self.tick += 1;
        *used = self.tick;
        self.order.insert(self.tick, *key);
        Some(vector.clone())
    }

    fn insert(&mut self, key: Key, vector: Vec<f32>) {
        if self.capacity == 0 {
            return;
        }
        self.tick += 1;
        if let Some((_, old)) = self.entries.insert(key, (vector, self.tick)) {
            self.order.remove(&old);
        }
        self.order.insert(self.tick, key);
        while self.entries.len() > self.capacity {
            match self.order.pop_first() {
                Some((_, oldest)) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

/// Counters of a [`CachedEmbedder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Texts answered from the cache.
    pub hits: u64,
    /// Texts that went to the inner embedder (each distinct text of a call counts once).
    pub misses: u64,
    /// Vectors held now.
    pub entries: usize,
    /// The most vectors it holds.
    pub capacity: usize,
}

/// Wraps an [`Embedder`] with a bounded LRU cache keyed by the SHA-256 of each text, so embedding the same text
/// again costs no model call. Texts repeated within one call are sent to the inner embedder once.
///
/// The cache belongs to one inner embedder (one model), so the text alone is the key. It is safe to share between
/// threads; the inner embedder runs without the cache's lock held.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use memlane_core::Embedder;
/// use memlane_embed::{testing::HashEmbedder, CachedEmbedder};
/// let cached = CachedEmbedder::with_capacity(HashEmbedder::new(8), 100);
/// let a = cached.embed(&["hello"]).unwrap();
/// let b = cached.embed(&["hello"]).unwrap();
/// assert_eq!(a, b);
/// assert_eq!(cached.stats().hits, 1);
/// # }
/// ```
pub struct CachedEmbedder<E> {
    inner: E,
    lru: Mutex<Lru>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<E: Embedder> CachedEmbedder<E> {
    /// How many vectors [`CachedEmbedder::new`] keeps: 10,000 (about 15 MiB at 384 dimensions).
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A cache of [`Self::DEFAULT_CAPACITY`] vectors in front of `inner`.
    pub fn new(inner: E) -> Self {
        Self::with_capacity(inner, Self::DEFAULT_CAPACITY)
    }

    /// A cache of at most `capacity` vectors in front of `inner` (0 turns caching off).
    pub fn with_capacity(inner: E, capacity: usize) -> Self {
        Self {
            inner,
            lru: Mutex::new(Lru::new(capacity)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The wrapped embedder.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// Hit and miss counts and the current size.
    pub fn stats(&self) -> CacheStats {
        let lru = self.lock();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: lru.entries.len(),
            capacity: lru.capacity,
        }
    }

    /// Drops every cached vector (the counters stay).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        // A panic while holding the lock leaves the map consistent (no operation spans a call out), so a poisoned
        // lock is still usable.
        self.lru
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<E: Embedder> Embedder for CachedEmbedder<E> {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let keys: Vec<Key> = texts.iter().map(|t| key(t)).collect();
        let mut out: Vec<Option<Vec<f32>>> = Vec::with_capacity(texts.len());
        // Distinct texts that are not cached, and for each text that is not, its index among them.
        let mut missing: Vec<&str> = Vec::new();
        let mut missing_keys: Vec<Key> = Vec::new();
        let mut slot: HashMap<Key, usize> = HashMap::new();
        let mut pending: Vec<(usize, usize)> = Vec::new();
        {
            let mut lru = self.lock();
            for (i, (text, k)) in texts.iter().zip(&keys).enumerate() {
                if let Some(&j) = slot.get(k) {
                    pending.push((i, j));
                    out.push(None);
                } else if let Some(v) = lru.get(k) {
                    out.push(Some(v));
                } else {
                    slot.insert(*k, missing.len());
                    pending.push((i, missing.len()));
                    missing.push(text);
                    missing_keys.push(*k);
                    out.push(None);
                }
            }
        }
        let hits = texts.len() - pending.len();
        self.hits.fetch_add(hits as u64, Ordering::Relaxed);
        if !missing.is_empty() {
            self.misses
                .fetch_add(missing.len() as u64, Ordering::Relaxed);
            let vectors = self.inner.embed(&missing)?;
            if vectors.len() != missing.len() {
                return Err(Error::internal(
                    "embed-cache",
                    format!(
                        "{} returned {} vectors for {} texts",
                        self.inner.model(),
                        vectors.len(),
                        missing.len()
                    ),
                    None,
                ));
            }
            for &(i, j) in &pending {
                out[i] = Some(vectors[j].clone());
            }
            let mut lru = self.lock();
            for (k, v) in missing_keys.into_iter().zip(vectors) {
                lru.insert(k, v);
            }
        }
        out.into_iter()
            .map(|v| v.ok_or_else(|| Error::internal("embed-cache", "a text got no vector", None)))
            .collect()
    }
}

impl<E: fmt::Debug> fmt::Debug for CachedEmbedder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (entries, capacity) = match self.lru.lock() {
            Ok(lru) => (lru.entries.len(), lru.capacity),
            Err(poisoned) => {
                let lru = poisoned.into_inner();
                (lru.entries.len(), lru.capacity)
            }
        };
        f.debug_struct("CachedEmbedder")
            .field("inner", &self.inner)
            .field("entries", &entries)
            .field("capacity", &capacity)
            .field("hits", &self.hits.load(Ordering::Relaxed))
            .field("misses", &self.misses.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{CountingEmbedder, HashEmbedder};

    fn cached(capacity: usize) -> CachedEmbedder<CountingEmbedder<HashEmbedder>> {
        CachedEmbedder::with_capacity(CountingEmbedder::new(HashEmbedder::new(16)), capacity)
    }

    #[test]
    fn same_text_is_embedded_once() -> Result<()> {
        let c = cached(10);
        let first = c.embed(&["alpha", "beta"])?;
        let again = c.embed(&["beta", "alpha"])?;
        assert_eq!(first[0], again[1]);
        assert_eq!(first[1], again[0]);
        assert_eq!(c.inner().texts_embedded(), 2);
        assert_eq!(c.inner().calls(), 1);
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries), (2, 2, 2));
        Ok(())
    }

    #[test]
    fn duplicates_within_a_call_go_to_the_model_once() -> Result<()> {
        let c = cached(10);
        let v = c.embed(&["x", "y", "x", "x"])?;
        assert_eq!(v.len(), 4);
        assert_eq!(v[0], v[2]);
        assert_eq!(v[0], v[3]);
        assert_eq!(c.inner().texts_embedded(), 2);
        Ok(())
    }

    #[test]
    fn cached_vectors_equal_fresh_ones() -> Result<()> {
        let c = cached(10);
        let plain = HashEmbedder::new(16);
        let texts = ["one", "two", "three"];
        c.embed(&texts)?;
        assert_eq!(c.embed(&texts)?, plain.embed(&texts)?);
        assert_eq!(c.model(), plain.model());
        assert_eq!(c.dimension(), 16);
        Ok(())
    }

    #[test]
    fn evicts_least_recently_used() -> Result<()> {
        let c = cached(2);
        c.embed(&["a", "b"])?;
        c.embed(&["a"])?; // a is now more recent than b
        c.embed(&["c"])?; // evicts b
        assert_eq!(c.stats().entries, 2);
        let before = c.inner().texts_embedded();
        c.embed(&["a", "c"])?;
        assert_eq!(c.inner().texts_embedded(), before);
        c.embed(&["b"])?;
        assert_eq!(c.inner().texts_embedded(), before + 1);
        Ok(())
    }

    #[test]
    fn zero_capacity_passes_through() -> Result<()> {
        let c = cached(0);
        c.embed(&["a"])?;
        c.embed(&["a"])?;
        assert_eq!(c.inner().texts_embedded(), 2);
        assert_eq!(c.stats().entries, 0);
        Ok(())
    }

    #[test]
    fn empty_input() -> Result<()> {
        let c = cached(4);
        assert!(c.embed(&[])?.is_empty());
        assert_eq!(c.inner().calls(), 0);
        Ok(())
    }

    #[test]
    fn clear_forgets() -> Result<()> {
        let c = cached(4);
        c.embed(&["a"])?;
        c.clear();
        c.embed(&["a"])?;
        assert_eq!(c.inner().texts_embedded(), 2);
        Ok(())
    }
}
