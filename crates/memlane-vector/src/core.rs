//! The in-memory index without persistence: slots (id, vector, code, tombstone) plus the graph over them.
//!
//! A slot is a dense `u32` node number. Slots are allocated in order by the single writer (the index's writer
//! mutex), filled, and then linked into the graph, possibly by several threads at once. Searching and linking
//! need `&Core` (the index's read lock); growing needs `&mut Core` (its write lock).

use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

use crate::distance::{dot_chunks, dot_kernel, has_avx2, DotFn};
use crate::graph::{Graph, Scorer, Space};
use crate::heap::{Cand, Worst};
use crate::nodes::Nodes;
use crate::quant::Pq;
use crate::storage::{ExactSpace, MappedVectors};
use crate::Result;

/// Structural parameters of a core.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Dimension given by the caller.
    pub(crate) dim: usize,
    /// Padded dimension.
    pub(crate) pdim: usize,
    /// Links per upper-level list.
    pub(crate) m: usize,
    /// Links per level-0 list.
    pub(crate) m0: usize,
    /// PQ sub-spaces, 0 without compression.
    pub(crate) pq_m: usize,
    /// Candidate list size while inserting.
    pub(crate) ef_construction: usize,
    /// Level draw seed.
    pub(crate) seed: u64,
}

/// Slots and graph.
pub(crate) struct Core {
    pub(crate) shape: Shape,
    pub(crate) graph: Graph,
    /// Full vectors in compressed mode (uncompressed, they are the graph's node payloads).
    pub(crate) mapped: Option<MappedVectors>,
    pub(crate) pq: Option<Pq>,
    pub(crate) ids: Box<[AtomicU64]>,
    pub(crate) deleted: Box<[AtomicU64]>,
    /// Slots allocated (and filled) so far.
    pub(crate) next: AtomicUsize,
    pub(crate) dot: DotFn,
    /// The CPU has AVX2 and FMA.
    avx2: bool,
}

struct CodeScorer<'a> {
    nodes: &'a Nodes,
    bytes: usize,
    table: &'a [f32],
}

impl Scorer for CodeScorer<'_> {
    #[inline(always)]
    fn score(&self, node: u32) -> f32 {
        // SAFETY: the graph hands out published nodes only; their codes were stored before publication and stay.
        let code = unsafe {
            std::slice::from_raw_parts(self.nodes.payload_ptr(node).cast::<u8>(), self.bytes)
        };
        Pq::score(self.table, code)
    }
    #[inline(always)]
    fn prefetch(&self, node: u32) {
        crate::distance::prefetch_range(self.nodes.payload_ptr(node), self.bytes);
    }
}

/// Exact scores with the kernel inlined, so that the whole walk compiles for the instruction set of its caller.
struct ExactScorer<'a> {
    space: ExactSpace<'a>,
    query: &'a [f32],
}

impl Scorer for ExactScorer<'_> {
    #[inline(always)]
    fn score(&self, node: u32) -> f32 {
        dot_chunks(self.query, self.space.vector(node))
    }
    #[inline(always)]
    fn prefetch(&self, node: u32) {
        self.space.prefetch(node);
    }
}

/// Packs code bytes into payload words (little-endian, so the bytes read back in order).
fn pack(code: &[u8]) -> Vec<u32> {
    code.chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect()
}

/// The exact walk, compiled for the baseline instruction set.
fn walk_exact<A: Fn(u32) -> bool>(core: &Core, query: &[f32], ef: usize, accept: &A) -> Vec<Cand> {
    core.graph.search(
        &ExactScorer {
            space: core.space(),
            query,
        },
        ef,
        accept,
    )
}

/// The exact walk compiled with AVX2 and FMA: the graph walk and the kernel are inlined into this function.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn walk_exact_avx2<A: Fn(u32) -> bool>(
    core: &Core,
    query: &[f32],
    ef: usize,
    accept: &A,
) -> Vec<Cand> {
    core.graph.search(
        &ExactScorer {
            space: core.space(),
            query,
        },
        ef,
        accept,
    )
}

/// The exact space with the kernel inlined (see [`ExactScorer`]).
struct InlineSpace<'a>(ExactSpace<'a>);

impl Space for InlineSpace<'_> {
    #[inline(always)]
    fn vector(&self, node: u32) -> &[f32] {
        self.0.vector(node)
    }
    #[inline(always)]
    fn dot(&self, a: &[f32], b: &[f32]) -> f32 {
        dot_chunks(a, b)
    }
    #[inline(always)]
    fn prefetch(&self, node: u32) {
        self.0.prefetch(node);
    }
}

/// Links the slots handed out by `next` until `end`, compiled for the baseline instruction set.
fn link_loop(core: &Core, next: &AtomicUsize, end: usize) {
    let space = InlineSpace(core.space());
    loop {
        let s = next.fetch_add(1, Relaxed);
        if s >= end {
            break;
        }
        core.graph
            .insert(s as u32, &space, core.shape.ef_construction);
    }
}

/// [`link_loop`] compiled with AVX2 and FMA (insertion and kernel inlined).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn link_avx2(core: &Core, next: &AtomicUsize, end: usize) {
    let space = InlineSpace(core.space());
    loop {
        let s = next.fetch_add(1, Relaxed);
        if s >= end {
            break;
        }
        core.graph
            .insert(s as u32, &space, core.shape.ef_construction);
    }
}

fn threads(n: usize) -> usize {
    if n == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        n
    }
}

impl Core {
    /// An empty core with room for `capacity` slots; `mapped` holds the full vectors in compressed mode.
    pub(crate) fn new(shape: Shape, capacity: usize, mapped: Option<MappedVectors>) -> Self {
        let capacity = capacity.max(1);
        let payload = if shape.pq_m > 0 {
            shape.pq_m.div_ceil(4)
        } else {
            shape.pdim
        };
        Core {
            graph: Graph::new(capacity, shape.m, shape.m0, payload, shape.seed),
            mapped,
            pq: None,
            ids: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            deleted: (0..capacity.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
            next: AtomicUsize::new(0),
            dot: dot_kernel(),
            avx2: has_avx2(),
            shape,
        }
    }

    /// Slots available.
    pub(crate) fn capacity(&self) -> usize {
        self.ids.len()
    }

    /// Slots filled.
    pub(crate) fn len(&self) -> usize {
        self.next.load(Acquire)
    }

    /// Makes room for at least `capacity` slots.
    pub(crate) fn grow(&mut self, capacity: usize) -> Result<()> {
        if capacity <= self.capacity() {
            return Ok(());
        }
        if let Some(m) = &mut self.mapped {
            m.grow(capacity)?;
        }
        self.graph.grow(capacity);
        let mut ids = std::mem::take(&mut self.ids).into_vec();
        ids.resize_with(capacity, || AtomicU64::new(0));
        self.ids = ids.into_boxed_slice();
        let mut del = std::mem::take(&mut self.deleted).into_vec();
        del.resize_with(capacity.div_ceil(64), || AtomicU64::new(0));
        self.deleted = del.into_boxed_slice();
        Ok(())
    }

    /// Writes slot `slot` (id, vector, code).
    ///
    /// # Safety
    /// The caller is the single allocator of `slot` (holds the writer mutex) and the slot is not published yet.
    pub(crate) unsafe fn fill(&self, slot: usize, id: u64, vector: &[f32]) {
        match &self.mapped {
            Some(m) => {
                // SAFETY: forwarded contract.
                unsafe { m.write(slot, vector) };
                if let Some(pq) = &self.pq {
                    let mut code = vec![0u8; pq.m];
                    pq.encode(vector, &mut code);
                    self.graph.nodes().write_payload(slot as u32, &pack(&code));
                }
            }
            None => {
                let words: Vec<u32> = vector.iter().map(|x| x.to_bits()).collect();
                self.graph.nodes().write_payload(slot as u32, &words);
            }
        }
        if let Some(a) = self.ids.get(slot) {
            a.store(id, Release);
        }
    }

    /// The exact space over full vectors.
    pub(crate) fn space(&self) -> ExactSpace<'_> {
        match &self.mapped {
            Some(m) => m.space(self.dot),
            None => ExactSpace::in_nodes(self.graph.nodes(), self.shape.pdim, self.dot),
        }
    }

    /// The code of a filled slot (compressed mode, once trained).
    pub(crate) fn code(&self, slot: usize) -> &[u8] {
        if self.pq.is_none() || slot >= self.capacity() {
            return &[];
        }
        // SAFETY: in bounds; codes of filled slots are stored before publication and not changed while shared.
        unsafe {
            std::slice::from_raw_parts(
                self.graph.nodes().payload_ptr(slot as u32).cast::<u8>(),
                self.shape.pq_m,
            )
        }
    }

    /// Stores a code read from a snapshot.
    pub(crate) fn set_code(&mut self, slot: usize, code: &[u8]) {
        self.graph.nodes().write_payload(slot as u32, &pack(code));
    }
    /// Links filled slots `start..end` into the graph with up to `threads` threads (0: one per core).
    pub(crate) fn link_range(&self, start: usize, end: usize, threads_wanted: usize) {
        let t = threads(threads_wanted)
            .min((end - start).div_ceil(256))
            .max(1);
        let next = AtomicUsize::new(start);
        let work = || {
            #[cfg(target_arch = "x86_64")]
            if self.avx2 {
                // SAFETY: `avx2` is set only when the running CPU has AVX2 and FMA.
                return unsafe { link_avx2(self, &next, end) };
            }
            link_loop(self, &next, end)
        };
        if t == 1 {
            work();
            return;
        }
        std::thread::scope(|sc| {
            for _ in 0..t {
                sc.spawn(work);
            }
        });
    }

    /// Marks `slot` deleted.
    pub(crate) fn delete(&self, slot: usize) {
        if let Some(w) = self.deleted.get(slot / 64) {
            w.fetch_or(1 << (slot % 64), Release);
        }
    }

    /// True when `slot` is deleted.
    #[inline(always)]
    pub(crate) fn is_deleted(&self, slot: usize) -> bool {
        self.deleted
            .get(slot / 64)
            .is_none_or(|w| w.load(Acquire) & (1 << (slot % 64)) != 0)
    }

    /// The id in `slot`.
    #[inline(always)]
    pub(crate) fn id(&self, slot: usize) -> u64 {
        self.ids.get(slot).map_or(u64::MAX, |a| a.load(Acquire))
    }

    /// Exact similarity of a padded query to a filled slot.
    pub(crate) fn exact(&self, query: &[f32], slot: usize) -> f32 {
        (self.dot)(query, self.space().vector(slot as u32))
    }

    /// The graph walk: best `ef` accepted slots by exact similarity, best first (compressed mode walks on codes,
    /// then rescores every candidate with its full vector).
    pub(crate) fn walk<A: Fn(u32) -> bool>(
        &self,
        query: &[f32],
        ef: usize,
        accept: &A,
    ) -> Vec<Cand> {
        match (&self.pq, &self.mapped) {
            (Some(pq), Some(_)) => {
                let table = pq.table(query, self.dot);
                let scorer = CodeScorer {
                    nodes: self.graph.nodes(),
                    bytes: pq.m,
                    table: &table,
                };
                let mut c = self.graph.search(&scorer, ef, accept);
                for x in &mut c {
                    x.score = self.exact(query, x.node as usize);
                }
                c.sort_unstable_by(|a, b| b.cmp(a));
                c
            }
            _ => {
                #[cfg(target_arch = "x86_64")]
                if self.avx2 {
                    // SAFETY: `avx2` is set only when the running CPU has AVX2 and FMA.
                    return unsafe { walk_exact_avx2(self, query, ef, accept) };
                }
                walk_exact(self, query, ef, accept)
            }
        }
    }

    /// Exact top-`k` over the given slots, best first.
    pub(crate) fn scan(
        &self,
        query: &[f32],
        slots: impl Iterator<Item = u32>,
        k: usize,
    ) -> Vec<Cand> {
        let mut top: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
        for s in slots {
            let c = Cand {
                score: self.exact(query, s as usize),
                node: s,
            };
            if top.len() < k {
                top.push(Worst(c));
            } else if top.peek().is_some_and(|w| c.score > w.0.score) {
                top.pop();
                top.push(Worst(c));
            }
        }
        let mut out: Vec<Cand> = top.into_iter().map(|w| w.0).collect();
        out.sort_unstable_by(|a, b| b.cmp(a));
        out
    }

    /// Learns the quantizer from up to `sample` filled slots and encodes every filled slot.
    pub(crate) fn train(&mut self, sample: usize, threads_wanted: usize) {
        let n = self.len();
        if self.shape.pq_m == 0 || n == 0 {
            return;
        }
        let pdim = self.shape.pdim;
        let step = (n / sample.max(1)).max(1);
        let mut data = Vec::with_capacity(n.min(sample) * pdim);
        let space = self.space();
        for s in (0..n).step_by(step).take(sample) {
            data.extend_from_slice(space.vector(s as u32));
        }
        let pq = Pq::train(
            &data,
            pdim,
            self.shape.pq_m,
            threads(threads_wanted),
            self.shape.seed,
        );
        self.set_pq(pq);
    }

    /// Installs a quantizer and encodes every filled slot.
    pub(crate) fn set_pq(&mut self, pq: Pq) {
        let n = self.len();
        let mut code = vec![0u8; pq.m];
        let space = self.space();
        let mut packed = Vec::with_capacity(n);
        for s in 0..n {
            pq.encode(space.vector(s as u32), &mut code);
            packed.push(pack(&code));
        }
        for (s, words) in packed.iter().enumerate() {
            self.graph.nodes().write_payload(s as u32, words);
        }
        self.pq = Some(pq);
    }
}
