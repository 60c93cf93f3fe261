//! The public, persistent [`Index`]: the core plus its write-ahead log, snapshots, id map and search planner.
//!
//! Files in the index directory: `wal.log` (every acknowledged write since the last snapshot), `snapshot.bin` (the
//! whole state as of a log position) and, in compressed mode, `vectors-<gen>.f32` (full vectors, memory-mapped).
//!
//! Locking: one writer at a time (a mutex around the log) appends to the log, allocates slots and updates the id
//! map; the graph linking that follows runs outside that mutex, in parallel for batches. Searches take only a read
//! lock on the core, held for the search, and never wait for the log.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::*};

use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::config::{Compression, IndexConfig};
use crate::core::{Core, Shape};
use crate::distance::{normalize_into, padded};
use crate::filter::{plan, Filter, Plan, SearchParams};
use crate::graph::{Graph, IdMap, Space};
use crate::heap::Cand;
use crate::snapshot;
use crate::storage::MappedVectors;
use crate::wal::{Op, Record, Wal};
use crate::{Error, Result};

const WAL_FILE: &str = "wal.log";
const MIN_CAPACITY: usize = 1024;
const REPLAY_BATCH: usize = 8192;
const SAMPLE: usize = 1024;

struct Writer {
    wal: Wal,
    vector_gen: u64,
}

/// What an index holds in RAM, in bytes (allocated capacity, not only what is used).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Live vectors.
    pub len: usize,
    /// Full vectors held in RAM (0 in compressed mode: they are in the mapped file).
    pub vectors: usize,
    /// Compact codes (compressed mode).
    pub codes: usize,
    /// Graph adjacency: level-0 lists plus upper-level lists and their map.
    pub links: usize,
    /// Slot-to-id table.
    pub ids: usize,
    /// Id-to-slot hash map (approximate: buckets times entry size).
    pub id_map: usize,
    /// Tombstone bitset.
    pub tombstones: usize,
}

impl MemoryUsage {
    /// All of the above.
    pub fn total(&self) -> usize {
        self.vectors + self.codes + self.links + self.ids + self.id_map + self.tombstones
    }

    /// Codes (or vectors) plus links, per live vector: the figure the compressed mode is sized by.
    pub fn graph_bytes_per_vector(&self) -> f64 {
        (self.vectors + self.codes + self.links) as f64 / self.len.max(1) as f64
    }

    /// Everything, per live vector.
    pub fn total_bytes_per_vector(&self) -> f64 {
        self.total() as f64 / self.len.max(1) as f64
    }
}

/// A persistent approximate-nearest-neighbor index over cosine similarity, keyed by `u64` ids.
///
/// Vectors are L2-normalized on the way in, so scores are cosine similarities in `[-1, 1]`. Every method takes
/// `&self`: share the index between threads with an `Arc`; searches run concurrently with each other and with
/// writes.
///
/// ```
/// use memlane_vector::{Index, IndexConfig, SearchParams};
/// let dir = tempfile::tempdir()?;
/// let index = Index::open(dir.path(), IndexConfig::new(3))?;
/// index.insert(1, &[1.0, 0.0, 0.0])?;
/// index.insert(2, &[0.0, 1.0, 0.0])?;
/// index.insert(3, &[0.9, 0.1, 0.0])?;
/// let hits = index.search(&[1.0, 0.0, 0.0], 2, &SearchParams::default())?;
/// assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![1, 3]);
/// assert!(index.remove(1)?);
/// drop(index);
/// let index = Index::open(dir.path(), IndexConfig::new(3))?; // snapshot + log tail, no rebuild
/// assert_eq!(index.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Index {
    dir: PathBuf,
    config: IndexConfig,
    shape: Shape,
    core: RwLock<Core>,
    writer: Mutex<Writer>,
    map: RwLock<IdMap<u64, u32>>,
    live: AtomicUsize,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("dir", &self.dir)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

fn vectors_path(dir: &Path, gen: u64) -> PathBuf {
    dir.join(format!("vectors-{gen}.f32"))
}

impl Index {
    /// Opens the index in `dir` (created if missing): loads the snapshot, if any, and replays the log after it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bad configuration or one whose structural fields differ from the stored
    /// index; [`Error::Corrupt`] for a damaged snapshot; I/O errors.
    pub fn open(dir: impl AsRef<Path>, config: IndexConfig) -> Result<Index> {
        config.validate()?;
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let pq_m = match config.compression {
            Compression::None => 0,
            Compression::Pq { subspaces, .. } => subspaces,
        };
        let shape = Shape {
            dim: config.dimension,
            pdim: padded(config.dimension),
            m: config.m,
            m0: config.level0_links(),
            pq_m,
            ef_construction: config.ef_construction,
            seed: config.seed,
        };
        let mut map = IdMap::default();
        let (core, lsn, gen) = match snapshot::read(&dir)? {
            None => (
                Core::new(
                    shape,
                    MIN_CAPACITY,
                    Self::vectors(&dir, shape, 0, MIN_CAPACITY)?,
                ),
                0,
                0,
            ),
            Some(l) => {
                if (l.dim, l.pdim, l.m, l.m0, l.pq_m)
                    != (shape.dim, shape.pdim, shape.m, shape.m0, shape.pq_m)
                {
                    return Err(Error::InvalidConfig(format!(
                        "the index in {} has dimension {}, m {}, m0 {}, pq subspaces {}; the configuration asks \
                         for {}, {}, {}, {}",
                        dir.display(),
                        l.dim,
                        l.m,
                        l.m0,
                        l.pq_m,
                        shape.dim,
                        shape.m,
                        shape.m0,
                        shape.pq_m
                    )));
                }
                let (lsn, gen) = (l.lsn, l.vector_gen);
                (Self::load(&dir, shape, l, &mut map)?, lsn, gen)
            }
        };
        let (mut wal, records) = Wal::open(&dir.join(WAL_FILE), config.fsync)?;
        wal.continue_after(lsn);
        let live = map.len();
        let index = Index {
            dir,
            config,
            shape,
            core: RwLock::new(core),
            writer: Mutex::new(Writer {
                wal,
                vector_gen: gen,
            }),
            map: RwLock::new(map),
            live: AtomicUsize::new(live),
        };
        index.replay(
            records
                .into_iter()
                .filter(|(l, _)| *l > lsn)
                .map(|(_, r)| r),
        )?;
        index.remove_stale_files(gen);
        index.after_write()?;
        Ok(index)
    }

    fn vectors(
        dir: &Path,
        shape: Shape,
        gen: u64,
        capacity: usize,
    ) -> Result<Option<MappedVectors>> {
        if shape.pq_m == 0 {
            Ok(None)
        } else {
            MappedVectors::open(&vectors_path(dir, gen), capacity, shape.pdim).map(Some)
        }
    }

    fn load(
        dir: &Path,
        shape: Shape,
        l: snapshot::Loaded,
        map: &mut IdMap<u64, u32>,
    ) -> Result<Core> {
        let capacity = l.n.max(MIN_CAPACITY);
        let vectors = Self::vectors(dir, shape, l.vector_gen, capacity)?;
        let mut core = Core::new(shape, capacity, vectors);
        let payload = if shape.pq_m > 0 {
            shape.pq_m.div_ceil(4)
        } else {
            shape.pdim
        };
        core.graph = Graph::from_parts(l.graph, capacity, payload, shape.seed ^ l.lsn);
        if let Some(v) = &l.vectors {
            for (slot, chunk) in v.chunks_exact(shape.pdim).enumerate() {
                let words: Vec<u32> = chunk.iter().map(|x| x.to_bits()).collect();
                core.graph.nodes().write_payload(slot as u32, &words);
            }
        }
        if let Some(stored) = &l.codes {
            for (slot, chunk) in stored.chunks_exact(shape.pq_m).enumerate() {
                core.set_code(slot, chunk);
            }
        }
        core.pq = l.pq;
        for (slot, id) in l.ids.iter().enumerate() {
            core.ids[slot].store(*id, Relaxed);
        }
        for (w, bits) in core.deleted.iter().zip(&l.deleted) {
            w.store(*bits, Relaxed);
        }
        core.next.store(l.n, Release);
        for (slot, id) in l.ids.iter().enumerate() {
            if !core.is_deleted(slot) {
                map.insert(*id, slot as u32);
            }
        }
        Ok(core)
    }

    fn remove_stale_files(&self, gen: u64) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let stale_vectors =
                name.starts_with("vectors-") && name != format!("vectors-{gen}.f32");
            if stale_vectors || name == "snapshot.tmp" {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    fn replay(&self, records: impl Iterator<Item = Record>) -> Result<()> {
        let pdim = self.shape.pdim;
        let mut ids = Vec::new();
        let mut buf = Vec::new();
        for rec in records {
            match rec {
                Record::Insert(id, v) => {
                    if v.len() != self.shape.dim {
                        return Err(Error::InvalidConfig(format!(
                            "the log holds a vector of {} dimensions; the configuration says {}",
                            v.len(),
                            self.shape.dim
                        )));
                    }
                    let start = buf.len();
                    buf.resize(start + pdim, 0.0);
                    normalize_into(&v, &mut buf[start..])?;
                    ids.push(id);
                    if ids.len() >= REPLAY_BATCH {
                        self.apply_inserts(self.writer.lock(), &ids, &buf)?;
                        ids.clear();
                        buf.clear();
                    }
                }
                Record::Remove(id) => {
                    self.apply_inserts(self.writer.lock(), &ids, &buf)?;
                    ids.clear();
                    buf.clear();
                    self.apply_remove(id);
                }
            }
        }
        self.apply_inserts(self.writer.lock(), &ids, &buf)
    }

    /// Checks and normalizes `vectors` (rows of `dimension`) into padded rows.
    fn prepare(&self, count: usize, vectors: &[f32]) -> Result<Vec<f32>> {
        let dim = self.shape.dim;
        if vectors.len() != count * dim {
            return Err(Error::DimensionMismatch {
                expected: dim,
                actual: vectors.len() / count.max(1),
            });
        }
        let mut out = vec![0.0; count * self.shape.pdim];
        for (row, dst) in vectors
            .chunks_exact(dim)
            .zip(out.chunks_exact_mut(self.shape.pdim))
        {
            normalize_into(row, dst)?;
        }
        Ok(out)
    }

    /// A read guard on a core with room for `extra` more slots.
    fn reserve_slots(&self, extra: usize) -> Result<RwLockReadGuard<'_, Core>> {
        {
            let core = self.core.read();
            if core.len() + extra <= core.capacity() {
                return Ok(core);
            }
        }
        let mut core = self.core.write();
        let need = core.len() + extra;
        if need > core.capacity() {
            let cap = need.max(core.capacity() * 2).max(MIN_CAPACITY);
            core.grow(cap)?;
        }
        Ok(RwLockWriteGuard::downgrade(core))
    }

    /// Fills slots for `ids` under the writer mutex, releases it, then links them (in parallel for batches).
    fn apply_inserts(&self, w: MutexGuard<'_, Writer>, ids: &[u64], rows: &[f32]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let pdim = self.shape.pdim;
        let core = self.reserve_slots(ids.len())?;
        let start = core.len();
        for (i, (id, row)) in ids.iter().zip(rows.chunks_exact(pdim)).enumerate() {
            // SAFETY: the writer mutex (`w`) makes this thread the only allocator; slots from `start` on are
            // unpublished until linked below.
            unsafe { core.fill(start + i, *id, row) };
        }
        core.next.store(start + ids.len(), Release);
        {
            let mut map = self.map.write();
            for (i, id) in ids.iter().enumerate() {
                match map.insert(*id, (start + i) as u32) {
                    Some(old) => core.delete(old as usize),
                    None => {
                        self.live.fetch_add(1, Relaxed);
                    }
                }
            }
        }
        drop(w);
        core.link_range(start, start + ids.len(), self.config.threads);
        Ok(())
    }

    fn apply_remove(&self, id: u64) -> bool {
        // Lock order everywhere: core, then map.
        let core = self.core.read();
        let Some(slot) = self.map.write().remove(&id) else {
            return false;
        };
        core.delete(slot as usize);
        self.live.fetch_sub(1, Relaxed);
        true
    }

    /// Trains the quantizer when due, and snapshots when the log has grown past its limit.
    fn after_write(&self) -> Result<()> {
        if let Compression::Pq { train_size, .. } = self.config.compression {
            if self.live.load(Relaxed) >= train_size && self.core.read().pq.is_none() {
                let _w = self.writer.lock();
                let mut core = self.core.write();
                if core.pq.is_none() {
                    core.train(train_size, self.config.threads);
                }
            }
        }
        let limit = self.config.snapshot_wal_bytes;
        if limit > 0 {
            let mut w = self.writer.lock();
            if w.wal.len() > limit {
                self.snapshot_locked(&mut w)?;
            }
        }
        Ok(())
    }

    /// Inserts (or replaces) `id` with `vector`. When it returns, the write is in the log (fsynced under
    /// [`FsyncPolicy::Always`](crate::FsyncPolicy::Always)) and visible to searches.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::InvalidVector`] (NaN, infinite or zero vector), I/O errors.
    pub fn insert(&self, id: u64, vector: &[f32]) -> Result<()> {
        self.insert_batch(&[id], vector)
    }

    /// Inserts many vectors at once: `vectors` holds `ids.len()` rows of `dimension` floats. One log write (and one
    /// fsync) for the batch; the graph links them with several threads. A later duplicate id replaces an earlier.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let index = memlane_vector::Index::open(dir.path(), memlane_vector::IndexConfig::new(2))?;
    /// index.insert_batch(&[10, 11], &[1.0, 0.0, 0.0, 1.0])?;
    /// assert_eq!(index.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Index::insert`]; nothing is written when any vector is invalid.
    pub fn insert_batch(&self, ids: &[u64], vectors: &[f32]) -> Result<()> {
        let rows = self.prepare(ids.len(), vectors)?;
        let ops: Vec<Op<'_>> = ids
            .iter()
            .zip(vectors.chunks_exact(self.shape.dim))
            .map(|(id, v)| Op::Insert(*id, v))
            .collect();
        let mut w = self.writer.lock();
        w.wal.append(&ops)?;
        self.apply_inserts(w, ids, &rows)?;
        self.after_write()
    }

    /// Removes `id`; false when it was not there. Durable and visible when it returns, like [`Index::insert`].
    /// The node stays in the graph as a tombstone (still routing searches, never returned) until
    /// [`Index::compact`].
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let index = memlane_vector::Index::open(dir.path(), memlane_vector::IndexConfig::new(2))?;
    /// index.insert(1, &[1.0, 2.0])?;
    /// assert!(index.remove(1)?);
    /// assert!(!index.remove(1)?);
    /// assert!(index.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&self, id: u64) -> Result<bool> {
        let mut w = self.writer.lock();
        if !self.map.read().contains_key(&id) {
            return Ok(false);
        }
        w.wal.append(&[Op::Remove(id)])?;
        let removed = self.apply_remove(id);
        drop(w);
        self.after_write()?;
        Ok(removed)
    }

    /// The `k` ids most similar to `query`, best first, as `(id, cosine similarity)`.
    ///
    /// With a filter, the planner scans exactly the passing vectors when few pass (see
    /// [`IndexConfig::exact_scan_fraction`]) and otherwise walks the graph with a beam widened for the filter.
    ///
    /// ```
    /// # use memlane_vector::{Filter, Index, IndexConfig, SearchParams};
    /// # let dir = tempfile::tempdir()?;
    /// let index = Index::open(dir.path(), IndexConfig::new(2))?;
    /// for id in 0..100u64 {
    ///     index.insert(id, &[1.0, id as f32 / 100.0])?;
    /// }
    /// let allowed = [3, 50, 99];
    /// let params = SearchParams { filter: Filter::AllowList(&allowed), min_score: Some(0.8), ..Default::default() };
    /// let hits = index.search(&[1.0, 0.0], 10, &params)?;
    /// assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![3, 50]); // 99 scores 0.71, below 0.8
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] and [`Error::InvalidVector`] for a bad query.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        params: &SearchParams<'_>,
    ) -> Result<Vec<(u64, f32)>> {
        if query.len() != self.shape.dim {
            return Err(Error::DimensionMismatch {
                expected: self.shape.dim,
                actual: query.len(),
            });
        }
        let mut q = vec![0.0; self.shape.pdim];
        normalize_into(query, &mut q)?;
        if k == 0 {
            return Ok(Vec::new());
        }
        let core = self.core.read();
        let live = self.live.load(Relaxed);
        // Never more results than vectors, and a beam no wider than the index: huge values cannot overflow.
        let k = k.min(live.max(1));
        let ef = params
            .ef
            .unwrap_or(self.config.ef_search)
            .max(k)
            .min(core.len().max(1));
        let (fraction, max) = (self.config.exact_scan_fraction, self.config.exact_scan_max);
        let cands: Vec<Cand> = match params.filter {
            Filter::All if live <= k => {
                // Asked for everything: an exact scan returns all of it (a walk might miss a poorly linked node).
                let slots: Vec<u32> = self.map.read().values().copied().collect();
                core.scan(&q, slots.into_iter(), k)
            }
            Filter::All => core.walk(&q, ef, &|s| !core.is_deleted(s as usize)),
            Filter::AllowList(ids) => {
                let mut slots: Vec<u32> = {
                    let map = self.map.read();
                    ids.iter().filter_map(|id| map.get(id).copied()).collect()
                };
                slots.sort_unstable();
                slots.dedup();
                match plan(live, slots.len(), k, ef, fraction, max) {
                    Plan::Scan => core.scan(&q, slots.into_iter(), k),
                    Plan::Walk(ef) => {
                        let mut bits = vec![0u64; core.capacity().div_ceil(64)];
                        for s in &slots {
                            bits[*s as usize / 64] |= 1 << (s % 64);
                        }
                        let allowed = |s: u32| {
                            bits.get(s as usize / 64)
                                .is_some_and(|w| w & (1 << (s % 64)) != 0)
                        };
                        core.walk(&q, ef, &|s| allowed(s) && !core.is_deleted(s as usize))
                    }
                }
            }
            Filter::Predicate { keep, estimate } => {
                let passing = estimate.unwrap_or_else(|| self.estimate(keep, live));
                match plan(live, passing, k, ef, fraction, max) {
                    Plan::Scan => {
                        let slots: Vec<u32> = self
                            .map
                            .read()
                            .iter()
                            .filter(|(id, _)| keep(**id))
                            .map(|(_, s)| *s)
                            .collect();
                        core.scan(&q, slots.into_iter(), k)
                    }
                    Plan::Walk(ef) => core.walk(&q, ef, &|s| {
                        !core.is_deleted(s as usize) && keep(core.id(s as usize))
                    }),
                }
            }
        };
        let min = params.min_score.unwrap_or(f32::NEG_INFINITY);
        Ok(cands
            .into_iter()
            .filter(|c| c.score >= min)
            .take(k)
            .map(|c| (core.id(c.node as usize), c.score))
            .collect())
    }

    /// Guesses how many live ids pass `keep` from a sample of the id map.
    fn estimate(&self, keep: &dyn Fn(u64) -> bool, live: usize) -> usize {
        let map = self.map.read();
        let (mut seen, mut pass) = (0usize, 0usize);
        for id in map.keys().take(SAMPLE) {
            seen += 1;
            pass += usize::from(keep(*id));
        }
        if seen == 0 {
            return 0;
        }
        // Round up so a filter seen to pass nothing in the sample is still planned as "a few", not "none".
        (pass * live)
            .div_ceil(seen)
            .max(usize::from(pass == 0 && live > seen) * live / seen)
    }

    /// Live vectors.
    pub fn len(&self) -> usize {
        self.live.load(Relaxed)
    }

    /// True when no vector is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when `id` is live.
    pub fn contains(&self, id: u64) -> bool {
        self.map.read().contains_key(&id)
    }

    /// Every live id, in no particular order: what a caller holding the record of truth elsewhere compares with
    /// its own ids to repair the index after a crash.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let index = memlane_vector::Index::open(dir.path(), memlane_vector::IndexConfig::new(2))?;
    /// index.insert_batch(&[3, 1], &[1.0, 0.0, 0.0, 1.0])?;
    /// let mut ids = index.ids();
    /// ids.sort();
    /// assert_eq!(ids, vec![1, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ids(&self) -> Vec<u64> {
        self.map.read().keys().copied().collect()
    }

    /// The stored, normalized vector of `id` (unpadded), if live.
    pub fn get(&self, id: u64) -> Option<Vec<f32>> {
        let core = self.core.read();
        let slot = *self.map.read().get(&id)?;
        Some(core.space().vector(slot).get(..self.shape.dim)?.to_vec())
    }

    /// The dimension of the vectors.
    pub fn dimension(&self) -> usize {
        self.shape.dim
    }

    /// The configuration in use.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// Grows capacity for `additional` more vectors now, instead of doubling as they arrive.
    pub fn reserve(&self, additional: usize) -> Result<()> {
        let _w = self.writer.lock();
        drop(self.reserve_slots(additional)?);
        Ok(())
    }

    /// Writes a snapshot of the whole index and empties the log; reopening then loads it without rebuilding.
    /// Writes wait meanwhile; searches go on.
    pub fn snapshot(&self) -> Result<()> {
        let mut w = self.writer.lock();
        self.snapshot_locked(&mut w)
    }

    fn snapshot_locked(&self, w: &mut Writer) -> Result<()> {
        // The write lock waits for linking still in flight; then readers may go on while the file is written.
        let core = RwLockWriteGuard::downgrade(self.core.write());
        snapshot::write(&self.dir, &core, w.wal.last_lsn(), w.vector_gen)?;
        w.wal.reset()
    }

    /// Rebuilds the graph from the live vectors only, dropping tombstones, then snapshots. Searches go on against
    /// the old graph meanwhile; writes wait.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let index = memlane_vector::Index::open(dir.path(), memlane_vector::IndexConfig::new(2))?;
    /// index.insert_batch(&[1, 2, 3], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0])?;
    /// index.remove(2)?;
    /// assert_eq!(index.tombstones(), 1);
    /// index.compact()?;
    /// assert_eq!((index.len(), index.tombstones()), (2, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compact(&self) -> Result<()> {
        let mut w = self.writer.lock();
        let old = RwLockWriteGuard::downgrade(self.core.write());
        let mut entries: Vec<(u64, u32)> =
            self.map.read().iter().map(|(id, s)| (*id, *s)).collect();
        entries.sort_unstable_by_key(|e| e.1);
        let n = entries.len();
        let gen = w.vector_gen + 1;
        let capacity = n.max(MIN_CAPACITY);
        let mut core = Core::new(
            self.shape,
            capacity,
            Self::vectors(&self.dir, self.shape, gen, capacity)?,
        );
        core.pq = old.pq.clone();
        let space = old.space();
        let mut map = IdMap::default();
        map.reserve(n);
        for (i, (id, slot)) in entries.iter().enumerate() {
            // SAFETY: `core` is not shared yet.
            unsafe { core.fill(i, *id, space.vector(*slot)) };
            map.insert(*id, i as u32);
        }
        core.next.store(n, Release);
        core.link_range(0, n, self.config.threads);
        drop(old);
        let old_gen = w.vector_gen;
        *self.core.write() = core;
        *self.map.write() = map;
        w.vector_gen = gen;
        self.snapshot_locked(&mut w)?;
        if self.shape.pq_m > 0 {
            let _ = std::fs::remove_file(vectors_path(&self.dir, old_gen));
        }
        Ok(())
    }

    /// Tombstoned nodes still in the graph (what [`Index::compact`] would drop).
    pub fn tombstones(&self) -> usize {
        self.core.read().len().saturating_sub(self.len())
    }

    /// What the index holds in RAM.
    ///
    /// ```
    /// use memlane_vector::{Compression, Index, IndexConfig};
    /// # let dir = tempfile::tempdir()?;
    /// let config = IndexConfig {
    ///     m: 8,
    ///     compression: Compression::Pq { subspaces: 8, train_size: 256 },
    ///     ..IndexConfig::new(32)
    /// };
    /// let index = Index::open(dir.path(), config)?;
    /// let rows: Vec<f32> = (0..300 * 32).map(|i| ((i * 7919) % 113) as f32 - 56.0).collect();
    /// index.insert_batch(&(0..300).collect::<Vec<u64>>(), &rows)?;
    /// let usage = index.memory_usage();
    /// assert_eq!(usage.vectors, 0); // full vectors are in the mapped file
    /// assert!(usage.codes > 0 && usage.graph_bytes_per_vector() > 0.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn memory_usage(&self) -> MemoryUsage {
        let core = self.core.read();
        let (payload, l0, up) = core.graph.bytes();
        let map = self.map.read();
        let compressed = self.shape.pq_m > 0;
        MemoryUsage {
            len: self.len(),
            vectors: if compressed { 0 } else { payload },
            codes: if compressed { payload } else { 0 },
            links: l0 + up,
            ids: core.ids.len() * 8,
            id_map: map.capacity() * (std::mem::size_of::<(u64, u32)>() + 1) * 8 / 7,
            tombstones: core.deleted.len() * 8,
        }
    }
}
