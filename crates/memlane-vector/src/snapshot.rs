//! Snapshots: the whole in-memory state (ids, tombstones, adjacency, vectors or codes and codebooks) in one file,
//! so that reopening loads the graph instead of rebuilding it, then replays only the log's tail.
//!
//! Layout (little-endian): magic `MLVSNAP1`, shape (`dim, pdim, m, m0, pq_m` as u32), `lsn` (last log record
//! included), `vector_gen` (which mapped vector file goes with it), slot count `n`, entry point, `n` ids, the
//! tombstone bitset, level-0 lists, upper lists, then full vectors (uncompressed mode) or codebooks and codes, and a
//! CRC32 of everything before it. A snapshot is written to a temporary file, fsynced and renamed over the old one,
//! so a crash leaves either the old or the new snapshot whole.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::core::Core;
use crate::graph::{GraphParts, Space};
use crate::quant::Pq;
use crate::wal::sync_dir;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"MLVSNAP1";
/// The snapshot's file name in the index directory.
pub(crate) const FILE: &str = "snapshot.bin";
const TMP: &str = "snapshot.tmp";

/// A loaded snapshot.
pub(crate) struct Loaded {
    pub(crate) dim: usize,
    pub(crate) pdim: usize,
    pub(crate) m: usize,
    pub(crate) m0: usize,
    pub(crate) pq_m: usize,
    pub(crate) lsn: u64,
    pub(crate) vector_gen: u64,
    pub(crate) n: usize,
    pub(crate) ids: Vec<u64>,
    pub(crate) deleted: Vec<u64>,
    pub(crate) graph: GraphParts,
    pub(crate) vectors: Option<Vec<f32>>,
    pub(crate) pq: Option<Pq>,
    pub(crate) codes: Option<Vec<u8>>,
}

struct CrcWriter<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn u32s<W: Write>(w: &mut W, xs: impl IntoIterator<Item = u32>) -> std::io::Result<()> {
    for x in xs {
        w.write_all(&x.to_le_bytes())?;
    }
    Ok(())
}

/// Writes `core` (slots `0..core.len()`) as the snapshot of `dir`, covering the log up to `lsn`.
pub(crate) fn write(dir: &Path, core: &Core, lsn: u64, vector_gen: u64) -> Result<()> {
    let tmp = dir.join(TMP);
    let file = File::create(&tmp)?;
    let mut w = CrcWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        crc: crc32fast::Hasher::new(),
    };
    let n = core.len();
    let s = core.shape;
    w.write_all(MAGIC)?;
    u32s(&mut w, [s.dim, s.pdim, s.m, s.m0, s.pq_m].map(|x| x as u32))?;
    w.write_all(&lsn.to_le_bytes())?;
    w.write_all(&vector_gen.to_le_bytes())?;
    w.write_all(&(n as u64).to_le_bytes())?;
    let parts = core.graph.to_parts(n);
    let (present, node, level) = parts.entry.map_or((0u32, 0, 0), |(n, l)| (1, n, l as u32));
    u32s(&mut w, [present, node, level])?;
    for slot in 0..n {
        w.write_all(&core.id(slot).to_le_bytes())?;
    }
    for word in core.deleted.iter().take(n.div_ceil(64)) {
        w.write_all(
            &word
                .load(std::sync::atomic::Ordering::Acquire)
                .to_le_bytes(),
        )?;
    }
    u32s(&mut w, parts.links0.iter().copied())?;
    w.write_all(&(parts.upper.len() as u64).to_le_bytes())?;
    for (node, words) in &parts.upper {
        u32s(&mut w, [*node, words.len() as u32])?;
        u32s(&mut w, words.iter().copied())?;
    }
    let space = core.space();
    if s.pq_m == 0 {
        for slot in 0..n {
            for x in space.vector(slot as u32) {
                w.write_all(&x.to_le_bytes())?;
            }
        }
    } else {
        match &core.pq {
            Some(pq) => {
                w.write_all(&[1])?;
                w.write_all(&(pq.centroids.len() as u64).to_le_bytes())?;
                for x in &pq.centroids {
                    w.write_all(&x.to_le_bytes())?;
                }
                for slot in 0..n {
                    w.write_all(core.code(slot))?;
                }
            }
            None => w.write_all(&[0])?,
        }
        if let Some(m) = &core.mapped {
            m.flush()?;
        }
    }
    let crc = w.crc.clone().finalize();
    let mut inner = w.inner;
    inner.write_all(&crc.to_le_bytes())?;
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join(FILE))?;
    sync_dir(dir)?;
    Ok(())
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }
    fn usize(&mut self) -> Option<usize> {
        self.u64().and_then(|x| usize::try_from(x).ok())
    }
    fn u32s(&mut self, n: usize) -> Option<Vec<u32>> {
        let b = self.take(n.checked_mul(4)?)?;
        Some(
            b.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }
    fn f32s(&mut self, n: usize) -> Option<Vec<f32>> {
        let b = self.take(n.checked_mul(4)?)?;
        Some(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }
}

/// Reads the snapshot of `dir`, if there is one.
pub(crate) fn read(dir: &Path) -> Result<Option<Loaded>> {
    let path = dir.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let corrupt = |why: &str| Error::corrupt(&path, why);
    if bytes.len() < MAGIC.len() + 4 || &bytes[..8] != MAGIC {
        return Err(corrupt("not a memlane-vector snapshot"));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) {
        return Err(corrupt("checksum mismatch"));
    }
    parse(body)
        .ok_or_else(|| corrupt("truncated or inconsistent"))
        .map(Some)
}

fn parse(body: &[u8]) -> Option<Loaded> {
    let mut c = Cursor {
        bytes: body,
        pos: 8,
    };
    let [dim, pdim, m, m0, pq_m] =
        [c.u32()?, c.u32()?, c.u32()?, c.u32()?, c.u32()?].map(|x| x as usize);
    let lsn = c.u64()?;
    let vector_gen = c.u64()?;
    let n = c.usize()?;
    let (present, node, level) = (c.u32()?, c.u32()?, c.u32()?);
    let ids: Vec<u64> = (0..n).map(|_| c.u64()).collect::<Option<_>>()?;
    let deleted: Vec<u64> = (0..n.div_ceil(64))
        .map(|_| c.u64())
        .collect::<Option<_>>()?;
    let links0 = c.u32s(n.checked_mul(m0 + 1)?)?;
    let uppers = c.usize()?;
    let mut upper = Vec::with_capacity(uppers.min(n));
    for _ in 0..uppers {
        let node = c.u32()?;
        let words = c.u32()? as usize;
        upper.push((node, c.u32s(words)?));
    }
    let entry = (present == 1).then_some((node, level as usize));
    let (mut vectors, mut pq, mut codes) = (None, None, None);
    if pq_m == 0 {
        vectors = Some(c.f32s(n.checked_mul(pdim)?)?);
    } else if c.take(1)? == [1] {
        let len = c.usize()?;
        pq = Some(Pq {
            dim: pdim,
            m: pq_m,
            centroids: c.f32s(len)?,
        });
        codes = Some(c.take(n.checked_mul(pq_m)?)?.to_vec());
    }
    (c.pos == body.len()).then_some(Loaded {
        dim,
        pdim,
        m,
        m0,
        pq_m,
        lsn,
        vector_gen,
        n,
        ids,
        deleted,
        graph: GraphParts {
            m,
            m0,
            links0,
            upper,
            entry,
        },
        vectors,
        pq,
        codes,
    })
}
