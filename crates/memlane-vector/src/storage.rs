//! Where full vectors live, and the exact space over them.
//!
//! Uncompressed, a node's normalized, padded vector is the payload of its block in the graph (see `nodes.rs`).
//! Compressed, the payload is the code and full vectors go to a file mapped into memory ([`MappedVectors`]); the
//! page cache decides what stays resident. Either way a vector is written before its node is published and never
//! changes afterwards, so [`ExactSpace`] reads it as a plain slice.

use std::fs::{File, OpenOptions};
use std::marker::PhantomData;
use std::path::Path;

use memmap2::{MmapOptions, MmapRaw};

use crate::distance::{prefetch_range, DotFn};
use crate::graph::Space;
use crate::Result;

/// Full vectors in a file, mapped into memory.
pub(crate) struct MappedVectors {
    file: File,
    map: MmapRaw,
    slots: usize,
    stride: usize,
}

impl MappedVectors {
    /// Maps `path` (created, or reused with its first slots' contents) with room for `slots` vectors of `stride`.
    pub(crate) fn open(path: &Path, slots: usize, stride: usize) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let want = (slots.max(1) * stride * 4) as u64;
        if file.metadata()?.len() < want {
            file.set_len(want)?;
        }
        let len = file.metadata()?.len() as usize;
        let map = MmapOptions::new().len(len).map_raw(&file)?;
        Ok(MappedVectors {
            file,
            map,
            slots: len / (stride * 4),
            stride,
        })
    }

    /// Makes room for `slots` vectors (remaps: needs `&mut`, i.e. no reader).
    pub(crate) fn grow(&mut self, slots: usize) -> Result<()> {
        if slots <= self.slots {
            return Ok(());
        }
        self.map.flush()?;
        self.file.set_len((slots * self.stride * 4) as u64)?;
        self.map = MmapOptions::new()
            .len(slots * self.stride * 4)
            .map_raw(&self.file)?;
        self.slots = slots;
        Ok(())
    }

    /// Writes slot `slot`.
    ///
    /// # Safety
    /// The caller owns the unpublished slot: nobody else reads or writes it meanwhile.
    pub(crate) unsafe fn write(&self, slot: usize, v: &[f32]) {
        if slot < self.slots {
            let n = v.len().min(self.stride);
            let dst = self
                .map
                .as_mut_ptr()
                .cast::<f32>()
                .wrapping_add(slot * self.stride);
            // SAFETY: inside the mapping; exclusive per the contract.
            unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), dst, n) };
        }
    }

    /// Makes written slots durable.
    pub(crate) fn flush(&self) -> Result<()> {
        Ok(self.map.flush()?)
    }

    /// The exact space over this file.
    pub(crate) fn space(&self, dot: DotFn) -> ExactSpace<'_> {
        ExactSpace {
            base: self.map.as_ptr().cast::<f32>(),
            stride: self.stride,
            len: self.stride,
            slots: self.slots,
            dot,
            _life: PhantomData,
        }
    }
}

/// A read-only view of published vectors: `slots` vectors of `len` floats, `stride` floats apart from `base`.
pub(crate) struct ExactSpace<'a> {
    base: *const f32,
    stride: usize,
    len: usize,
    slots: usize,
    dot: DotFn,
    _life: PhantomData<&'a ()>,
}

// SAFETY: the view only reads vectors that are published (written before, never changed after), for the lifetime
// of the owner it borrows.
unsafe impl Sync for ExactSpace<'_> {}
// SAFETY: as above.
unsafe impl Send for ExactSpace<'_> {}

impl<'a> ExactSpace<'a> {
    /// A view of vectors stored as node payloads.
    pub(crate) fn in_nodes(nodes: &'a crate::nodes::Nodes, len: usize, dot: DotFn) -> Self {
        ExactSpace {
            base: nodes.payload_ptr(0).cast::<f32>(),
            stride: nodes.stride(),
            len,
            slots: nodes.capacity(),
            dot,
            _life: PhantomData,
        }
    }
}

impl Space for ExactSpace<'_> {
    #[inline(always)]
    fn vector(&self, node: u32) -> &[f32] {
        if node as usize >= self.slots {
            return &[];
        }
        // SAFETY: in bounds of the owner's allocation; the graph hands out only published nodes (or the node being
        // inserted, written by this thread), whose vectors no longer change.
        unsafe { std::slice::from_raw_parts(self.base.add(node as usize * self.stride), self.len) }
    }
    #[inline(always)]
    fn dot(&self, a: &[f32], b: &[f32]) -> f32 {
        (self.dot)(a, b)
    }
    #[inline(always)]
    fn prefetch(&self, node: u32) {
        prefetch_range(
            self.base.wrapping_add(node as usize * self.stride),
            self.len * 4,
        );
    }
}
