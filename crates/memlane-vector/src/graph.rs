//! The HNSW graph: layered neighbor lists, insertion with the neighbor-selection heuristic, and the layer walk.
//!
//! Node numbers are dense `u32`s handed out by the index. Level-0 lists live in one contiguous array of atomics
//! (`[count, n1, n2, ...]` per node), upper levels in a map for the few nodes that have them. Searches read lists
//! with plain atomic loads and take no lock; writers serialize per node through striped mutexes, so a search during
//! inserts sees either the old or the new neighbor of a slot, both valid nodes. Growing the arrays needs `&mut`.
//!
//! Scores are similarities (dot products of normalized vectors): higher is closer.

use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};

use parking_lot::{Mutex, RwLock};

use crate::heap::{Cand, Worst};
use crate::nodes::Nodes;
use crate::visited::Visited;

const STRIPES: usize = 1024;
const MAX_LEVEL: usize = 16;
/// Cosine similarity from which two vectors count as duplicates in neighbor selection.
const DUPLICATE: f32 = 0.9999;

/// Exact vectors of published nodes, for building the graph.
pub(crate) trait Space: Sync {
    /// The normalized, padded vector of a published node.
    fn vector(&self, node: u32) -> &[f32];
    /// The dot product kernel.
    fn dot(&self, a: &[f32], b: &[f32]) -> f32;
    /// Hints the CPU to load `node`'s vector.
    fn prefetch(&self, node: u32);
}

/// Similarity of nodes to one query (exact or from compact codes).
pub(crate) trait Scorer {
    /// Similarity of `node` to the query.
    fn score(&self, node: u32) -> f32;
    /// Hints the CPU to load what [`Scorer::score`] reads for `node`.
    fn prefetch(&self, node: u32);
}

struct QueryScorer<'a, S> {
    space: &'a S,
    query: &'a [f32],
}

impl<S: Space> Scorer for QueryScorer<'_, S> {
    #[inline(always)]
    fn score(&self, node: u32) -> f32 {
        self.space.dot(self.query, self.space.vector(node))
    }
    #[inline(always)]
    fn prefetch(&self, node: u32) {
        self.space.prefetch(node);
    }
}

/// A multiplicative hasher for node numbers and ids (keys are already well spread).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        // The murmur3 finalizer: every output bit depends on every input bit, so bucket order is a fair sample.
        let mut h = n ^ self.0;
        h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        h = (h ^ (h >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        self.0 = h ^ (h >> 33);
    }
}

/// A `HashMap` with [`IdHasher`].
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

type Upper = IdMap<u32, Box<[AtomicU32]>>;

/// Reusable per-search memory.
struct Scratch {
    visited: Visited,
    candidates: BinaryHeap<Cand>,
    results: BinaryHeap<Worst>,
    batch: Vec<u32>,
}

/// The layered graph.
pub(crate) struct Graph {
    m: usize,
    m0: usize,
    level_mult: f64,
    nodes: Nodes,
    upper: RwLock<Upper>,
    entry: AtomicU64,
    entry_lock: Mutex<()>,
    locks: Box<[Mutex<()>]>,
    rng: AtomicU64,
    scratch: Mutex<Vec<Scratch>>,
}

const PRESENT: u64 = 1 << 63;

fn pack(node: u32, level: usize) -> u64 {
    PRESENT | ((level as u64) << 32) | u64::from(node)
}

fn unpack(e: u64) -> Option<(u32, usize)> {
    (e & PRESENT != 0).then_some((e as u32, ((e >> 32) & 0xff) as usize))
}

/// Everything a snapshot stores about the graph.
pub(crate) struct GraphParts {
    /// `m`, `m0`.
    pub(crate) m: usize,
    /// Level-0 list size.
    pub(crate) m0: usize,
    /// `[count, ids..]` per node, `m0 + 1` words each.
    pub(crate) links0: Vec<u32>,
    /// Nodes above level 0: node, then `level * (m + 1)` words.
    pub(crate) upper: Vec<(u32, Vec<u32>)>,
    /// Entry node and its level.
    pub(crate) entry: Option<(u32, usize)>,
}

impl Graph {
    /// An empty graph for `capacity` nodes with `m` links per upper level and `m0` at level 0, and `payload`
    /// words of per-node data (vector or code) stored beside each level-0 list.
    pub(crate) fn new(capacity: usize, m: usize, m0: usize, payload: usize, seed: u64) -> Self {
        Graph {
            m,
            m0,
            level_mult: 1.0 / (m.max(2) as f64).ln(),
            nodes: Nodes::new(capacity, payload, m0 + 1),
            upper: RwLock::new(Upper::default()),
            entry: AtomicU64::new(0),
            entry_lock: Mutex::new(()),
            locks: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            rng: AtomicU64::new(seed),
            scratch: Mutex::new(Vec::new()),
        }
    }

    /// Rebuilds a graph from snapshot parts.
    pub(crate) fn from_parts(
        parts: GraphParts,
        capacity: usize,
        payload: usize,
        seed: u64,
    ) -> Self {
        let g = Graph::new(capacity, parts.m, parts.m0, payload, seed);
        for (node, words) in parts.links0.chunks_exact(parts.m0 + 1).enumerate() {
            for (a, v) in g.nodes.list(node as u32).iter().zip(words) {
                a.store(*v, Relaxed);
            }
        }
        {
            let mut up = g.upper.write();
            for (node, words) in parts.upper {
                up.insert(node, words.into_iter().map(AtomicU32::new).collect());
            }
        }
        if let Some((node, level)) = parts.entry {
            g.entry.store(pack(node, level), Relaxed);
        }
        g
    }

    /// The parts a snapshot stores, for nodes `0..n`.
    pub(crate) fn to_parts(&self, n: usize) -> GraphParts {
        let upper = self.upper.read();
        let mut up: Vec<(u32, Vec<u32>)> = upper
            .iter()
            .map(|(&k, v)| (k, v.iter().map(|a| a.load(Acquire)).collect()))
            .collect();
        up.sort_unstable_by_key(|e| e.0);
        GraphParts {
            m: self.m,
            m0: self.m0,
            links0: (0..n as u32)
                .flat_map(|node| self.nodes.list(node).iter().map(|a| a.load(Acquire)))
                .collect(),
            upper: up,
            entry: unpack(self.entry.load(Acquire)),
        }
    }

    /// Node capacity.
    pub(crate) fn capacity(&self) -> usize {
        self.nodes.capacity()
    }

    /// The node blocks (payloads live there).
    #[inline(always)]
    pub(crate) fn nodes(&self) -> &Nodes {
        &self.nodes
    }

    /// Makes room for `capacity` nodes.
    pub(crate) fn grow(&mut self, capacity: usize) {
        if capacity <= self.capacity() {
            return;
        }
        self.nodes = self.nodes.grown(capacity);
    }

    /// Bytes held: `(payloads, level-0 lists with padding, upper-level lists with their map)`.
    pub(crate) fn bytes(&self) -> (usize, usize, usize) {
        let upper = self.upper.read();
        let lists: usize = upper.values().map(|v| v.len() * 4 + 16).sum();
        // hashbrown: one control byte plus the (key, boxed slice) entry per bucket; buckets >= len / 0.875.
        let entry = std::mem::size_of::<(u32, Box<[AtomicU32]>)>() + 1;
        let (payload, level0) = self.nodes.bytes();
        (payload, level0, lists + upper.capacity() * entry * 8 / 7)
    }

    /// Draws a level for a new node (geometric with multiplier 1/ln M).
    pub(crate) fn random_level(&self) -> usize {
        let mut z = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let u = ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        ((-u.ln() * self.level_mult) as usize).min(MAX_LEVEL)
    }

    /// Hints the CPU to load `node`'s level-0 list.
    #[inline(always)]
    fn prefetch_list0(&self, node: u32) {
        let list = self.nodes.list(node);
        crate::distance::prefetch_range(list.as_ptr(), list.len() * 4);
    }

    #[inline(always)]
    fn list<'a>(&'a self, level: usize, node: u32, upper: &'a Upper) -> &'a [AtomicU32] {
        if level == 0 {
            self.nodes.list(node)
        } else {
            let s = (level - 1) * (self.m + 1);
            upper
                .get(&node)
                .and_then(|v| v.get(s..s + self.m + 1))
                .unwrap_or(&[])
        }
    }

    fn take_scratch(&self) -> Scratch {
        let cap = self.capacity();
        let mut s = self.scratch.lock().pop().unwrap_or_else(|| Scratch {
            visited: Visited::new(cap),
            candidates: BinaryHeap::with_capacity(256),
            results: BinaryHeap::with_capacity(256),
            batch: Vec::with_capacity(64),
        });
        s.visited.reset(cap);
        s
    }

    fn put_scratch(&self, s: Scratch) {
        self.scratch.lock().push(s);
    }

    /// Greedy descent on one upper level: moves to the closest neighbor until none is closer.
    #[inline(always)]
    fn greedy<S: Scorer>(&self, level: usize, mut cur: Cand, scorer: &S, upper: &Upper) -> Cand {
        loop {
            let mut changed = false;
            let list = self.list(level, cur.node, upper);
            let Some((count, ids)) = list.split_first() else {
                return cur;
            };
            let count = (count.load(Acquire) as usize).min(ids.len());
            for a in &ids[..count] {
                let n = a.load(Acquire);
                let s = scorer.score(n);
                if s > cur.score {
                    cur = Cand { score: s, node: n };
                    changed = true;
                }
            }
            if !changed {
                return cur;
            }
        }
    }

    /// The beam search on one level; leaves the best `ef` accepted nodes in `sc.results`.
    #[inline(always)]
    fn search_layer<S: Scorer, A: Fn(u32) -> bool>(
        &self,
        (level, upper): (usize, &Upper),
        entry: &[Cand],
        ef: usize,
        scorer: &S,
        accept: &A,
        sc: &mut Scratch,
    ) {
        sc.candidates.clear();
        sc.results.clear();
        for &c in entry {
            if sc.visited.insert(c.node) {
                sc.candidates.push(c);
                if accept(c.node) {
                    sc.results.push(Worst(c));
                }
            }
        }
        while sc.results.len() > ef {
            sc.results.pop();
        }
        while let Some(c) = sc.candidates.pop() {
            let worst = sc.results.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
            if c.score < worst && sc.results.len() >= ef {
                break;
            }
            let list = self.list(level, c.node, upper);
            let Some((count, ids)) = list.split_first() else {
                continue;
            };
            let count = (count.load(Acquire) as usize).min(ids.len());
            sc.batch.clear();
            for a in &ids[..count] {
                let n = a.load(Acquire);
                if sc.visited.insert(n) {
                    scorer.prefetch(n);
                    sc.batch.push(n);
                }
            }
            for &n in &sc.batch {
                let s = scorer.score(n);
                let worst = sc.results.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
                if sc.results.len() < ef || s > worst {
                    let cand = Cand { score: s, node: n };
                    sc.candidates.push(cand);
                    if accept(n) {
                        sc.results.push(Worst(cand));
                        if sc.results.len() > ef {
                            sc.results.pop();
                        }
                    }
                }
            }
            if level == 0 {
                if let Some(next) = sc.candidates.peek() {
                    self.prefetch_list0(next.node);
                }
            }
        }
    }

    /// The best `ef` accepted nodes for a query, best first.
    #[inline(always)]
    pub(crate) fn search<S: Scorer, A: Fn(u32) -> bool>(
        &self,
        scorer: &S,
        ef: usize,
        accept: &A,
    ) -> Vec<Cand> {
        let Some((ep, max_level)) = unpack(self.entry.load(Acquire)) else {
            return Vec::new();
        };
        let upper = self.upper.read();
        let mut cur = Cand {
            score: scorer.score(ep),
            node: ep,
        };
        for level in (1..=max_level).rev() {
            cur = self.greedy(level, cur, scorer, &upper);
        }
        let mut sc = self.take_scratch();
        self.search_layer((0, &upper), &[cur], ef.max(1), scorer, accept, &mut sc);
        let mut out: Vec<Cand> = sc.results.drain().map(|w| w.0).collect();
        self.put_scratch(sc);
        out.sort_unstable_by(|a, b| b.cmp(a));
        out
    }

    /// Keeps at most `m` of `cands` (sorted best first): a candidate stays when it is closer to the base than to
    /// every one kept before it, which spreads links in all directions.
    ///
    /// Duplicates of the base (similarity >= [`DUPLICATE`]) are handled apart: they prune nothing and at most
    /// half the list goes to them, newest first (ties sort by higher node number), so copies of one vector form a
    /// chain that the walk can follow instead of a closed clique it cannot leave or enter.
    #[inline(always)]
    fn select<S: Space>(space: &S, cands: &[Cand], m: usize, out: &mut Vec<Cand>) {
        out.clear();
        if cands.len() <= m {
            out.extend_from_slice(cands);
            return;
        }
        let max_dups = (m / 2).max(1);
        let mut dups = 0;
        for &c in cands {
            if out.len() >= m {
                break;
            }
            if c.score >= DUPLICATE {
                if dups < max_dups {
                    dups += 1;
                    out.push(c);
                }
                continue;
            }
            let v = space.vector(c.node);
            if out
                .iter()
                .all(|s| s.score >= DUPLICATE || space.dot(v, space.vector(s.node)) < c.score)
            {
                out.push(c);
            }
        }
    }

    fn write_list(&self, level: usize, node: u32, ids: &[Cand], upper: &Upper) {
        let list = self.list(level, node, upper);
        let Some((count, slots)) = list.split_first() else {
            return;
        };
        let n = ids.len().min(slots.len());
        for (slot, c) in slots.iter().zip(&ids[..n]) {
            slot.store(c.node, Release);
        }
        count.store(n as u32, Release);
    }

    /// Adds `new` to `target`'s list at `level`, pruning with the heuristic when the list is full.
    #[inline(always)]
    fn link<S: Space>(
        &self,
        level: usize,
        target: u32,
        new: Cand,
        space: &S,
        upper: &Upper,
        buf: &mut Vec<Cand>,
    ) {
        let _g = self.locks[target as usize % STRIPES].lock();
        let list = self.list(level, target, upper);
        let Some((count, slots)) = list.split_first() else {
            return;
        };
        let n = (count.load(Acquire) as usize).min(slots.len());
        if slots[..n].iter().any(|a| a.load(Relaxed) == new.node) {
            return;
        }
        if n < slots.len() {
            slots[n].store(new.node, Release);
            count.store(n as u32 + 1, Release);
            return;
        }
        let tv = space.vector(target);
        let mut cands: Vec<Cand> = slots[..n]
            .iter()
            .map(|a| {
                let id = a.load(Relaxed);
                Cand {
                    score: space.dot(tv, space.vector(id)),
                    node: id,
                }
            })
            .collect();
        cands.push(Cand {
            score: new.score,
            node: new.node,
        });
        cands.sort_unstable_by(|a, b| b.cmp(a));
        Self::select(space, &cands, slots.len(), buf);
        self.write_list(level, target, buf, upper);
    }

    /// Links node `node` (its vector already written and readable through `space`) into the graph.
    #[inline(always)]
    pub(crate) fn insert<S: Space>(&self, node: u32, space: &S, ef_construction: usize) {
        let level = self.random_level();
        if level > 0 {
            let words = level * (self.m + 1);
            self.upper
                .write()
                .insert(node, (0..words).map(|_| AtomicU32::new(0)).collect());
        }
        let mut entry = unpack(self.entry.load(Acquire));
        if entry.is_none() {
            let _g = self.entry_lock.lock();
            entry = unpack(self.entry.load(Acquire));
            if entry.is_none() {
                self.entry.store(pack(node, level), Release);
                return;
            }
        }
        let Some((ep, max_level)) = entry else { return };
        let upper = self.upper.read();
        let scorer = QueryScorer {
            space,
            query: space.vector(node),
        };
        let mut cur = Cand {
            score: scorer.score(ep),
            node: ep,
        };
        for l in (level + 1..=max_level).rev() {
            cur = self.greedy(l, cur, &scorer, &upper);
        }
        let mut sc = self.take_scratch();
        let mut eps = vec![cur];
        let mut found: Vec<Cand> = Vec::new();
        let mut chosen: Vec<Cand> = Vec::new();
        let mut buf: Vec<Cand> = Vec::new();
        for l in (0..=level.min(max_level)).rev() {
            sc.visited.reset(self.capacity());
            self.search_layer(
                (l, &upper),
                &eps,
                ef_construction,
                &scorer,
                &|n| n != node,
                &mut sc,
            );
            found.clear();
            found.extend(sc.results.drain().map(|w| w.0));
            found.sort_unstable_by(|a, b| b.cmp(a));
            Self::select(space, &found, self.m, &mut chosen);
            {
                let _g = self.locks[node as usize % STRIPES].lock();
                self.write_list(l, node, &chosen, &upper);
            }
            for &c in &chosen {
                self.link(
                    l,
                    c.node,
                    Cand {
                        score: c.score,
                        node,
                    },
                    space,
                    &upper,
                    &mut buf,
                );
            }
            std::mem::swap(&mut eps, &mut found);
        }
        self.put_scratch(sc);
        drop(upper);
        if level > max_level {
            let _g = self.entry_lock.lock();
            if unpack(self.entry.load(Acquire)).is_none_or(|(_, l)| level > l) {
                self.entry.store(pack(node, level), Release);
            }
        }
    }
}
