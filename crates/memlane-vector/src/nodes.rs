//! Level-0 node blocks: each node's payload (its full vector, or its compact code) followed by its level-0
//! neighbor list (`count`, then up to `m0` node numbers), in one contiguous, cache-line-aligned array.
//!
//! Keeping a node's vector next to its links means the walk that has just scored a node finds its links in the
//! cache lines it already touched. Every word is an `AtomicU32`: lists are read with acquire loads and no lock;
//! a payload is stored (relaxed) before its node is published by a release store into some neighbor list, after
//! which it never changes, so readers may view it as plain `f32`s or bytes.

use std::sync::atomic::{AtomicU32, Ordering::*};

const LINE_WORDS: usize = 16;

/// The node blocks.
pub(crate) struct Nodes {
    words: Box<[AtomicU32]>,
    base: usize,
    stride: usize,
    payload: usize,
    list: usize,
}

impl Nodes {
    /// Room for `capacity` nodes of `payload` words then `list` words each. Blocks of a cache line or more are
    /// padded to whole lines so a vector never straddles one more line than it must.
    pub(crate) fn new(capacity: usize, payload: usize, list: usize) -> Self {
        let raw = payload + list;
        let stride = if payload >= LINE_WORDS {
            raw.div_ceil(LINE_WORDS) * LINE_WORDS
        } else {
            raw
        };
        let words: Box<[AtomicU32]> = (0..capacity * stride + LINE_WORDS)
            .map(|_| AtomicU32::new(0))
            .collect();
        let misalign = (words.as_ptr() as usize % (LINE_WORDS * 4)) / 4;
        let base = (LINE_WORDS - misalign) % LINE_WORDS;
        Nodes {
            words,
            base,
            stride,
            payload,
            list,
        }
    }

    /// Nodes that fit.
    pub(crate) fn capacity(&self) -> usize {
        (self.words.len() - LINE_WORDS) / self.stride.max(1)
    }

    /// A copy with room for `capacity` nodes.
    pub(crate) fn grown(&self, capacity: usize) -> Self {
        let new = Nodes::new(capacity, self.payload, self.list);
        let n = self.capacity().min(capacity) * self.stride;
        for (dst, src) in new.words[new.base..new.base + n]
            .iter()
            .zip(&self.words[self.base..self.base + n])
        {
            dst.store(src.load(Acquire), Relaxed);
        }
        new
    }

    /// `node`'s level-0 list: `[count, ids..]`.
    #[inline(always)]
    pub(crate) fn list(&self, node: u32) -> &[AtomicU32] {
        let s = self.base + node as usize * self.stride + self.payload;
        self.words.get(s..s + self.list).unwrap_or(&[])
    }

    /// A pointer to `node`'s payload (for reads after publication, and prefetching).
    #[inline(always)]
    pub(crate) fn payload_ptr(&self, node: u32) -> *const u32 {
        // `AtomicU32` has the layout of `u32`.
        self.words
            .as_ptr()
            .wrapping_add(self.base + node as usize * self.stride)
            .cast::<u32>()
    }

    /// Stores `node`'s payload (before the node is published, or under `&mut` of the owner).
    pub(crate) fn write_payload(&self, node: u32, payload: &[u32]) {
        let s = self.base + node as usize * self.stride;
        if let Some(dst) = self.words.get(s..s + self.payload) {
            for (d, v) in dst.iter().zip(payload) {
                d.store(*v, Relaxed);
            }
        }
    }

    /// Words per node block.
    pub(crate) fn stride(&self) -> usize {
        self.stride
    }

    /// Bytes held, as `(payloads, lists and padding)`.
    pub(crate) fn bytes(&self) -> (usize, usize) {
        let total = self.words.len() * 4;
        let payload = self.capacity() * self.payload * 4;
        (payload, total - payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_and_survive_growth() {
        let nodes = Nodes::new(3, 16, 33);
        assert_eq!(nodes.stride(), 64);
        assert_eq!(nodes.payload_ptr(0) as usize % 64, 0);
        assert_eq!(nodes.payload_ptr(1) as usize % 64, 0);
        nodes.write_payload(2, &[7; 16]);
        nodes.list(2)[0].store(1, Relaxed);
        nodes.list(2)[1].store(5, Relaxed);
        let grown = nodes.grown(10);
        assert_eq!(grown.capacity(), 10);
        // SAFETY: single-threaded test; the payload was written above.
        assert_eq!(unsafe { *grown.payload_ptr(2) }, 7);
        assert_eq!(grown.list(2)[1].load(Relaxed), 5);
        assert!(grown.list(10).is_empty());
        let small = Nodes::new(4, 6, 17);
        assert_eq!(small.stride(), 23, "blocks under a line are not padded");
    }
}
