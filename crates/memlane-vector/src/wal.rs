//! The write-ahead log: every acknowledged insert and remove, framed as `[len u32][crc32 u32][payload]`.
//!
//! The payload is `lsn u64, tag u8, id u64` and, for an insert, `n u32` then `n` little-endian `f32`s (the vector
//! as the caller gave it). On open the log is read up to the first frame that is short or fails its checksum: that
//! is a torn tail from a crash in the middle of a write, never acknowledged, so it is cut off and appending resumes
//! after the last good frame. Records at or below the snapshot's sequence number are already in the snapshot.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::config::FsyncPolicy;
use crate::Result;

const TAG_INSERT: u8 = 1;
const TAG_REMOVE: u8 = 2;
const HEADER: usize = 8;

/// One operation to log.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op<'a> {
    /// Insert or replace `id` with a vector.
    Insert(u64, &'a [f32]),
    /// Remove `id`.
    Remove(u64),
}

/// A replayed operation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Record {
    /// Insert or replace.
    Insert(u64, Vec<f32>),
    /// Remove.
    Remove(u64),
}

/// The open log.
pub(crate) struct Wal {
    file: File,
    len: u64,
    last_lsn: u64,
    fsync: FsyncPolicy,
}

fn parse(payload: &[u8]) -> Option<(u64, Record)> {
    let lsn = u64::from_le_bytes(payload.get(0..8)?.try_into().ok()?);
    let tag = *payload.get(8)?;
    let id = u64::from_le_bytes(payload.get(9..17)?.try_into().ok()?);
    match tag {
        TAG_INSERT => {
            let n = u32::from_le_bytes(payload.get(17..21)?.try_into().ok()?) as usize;
            let body = payload.get(21..21 + n * 4)?;
            let v = body
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Some((lsn, Record::Insert(id, v)))
        }
        TAG_REMOVE => Some((lsn, Record::Remove(id))),
        _ => None,
    }
}

impl Wal {
    /// Opens (or creates) the log at `path`, returning it and its valid records in order; a torn tail is cut.
    pub(crate) fn open(path: &Path, fsync: FsyncPolicy) -> Result<(Wal, Vec<(u64, Record)>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut records = Vec::new();
        let mut pos = 0usize;
        let mut last_lsn = 0;
        while let Some(head) = bytes.get(pos..pos + HEADER) {
            let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            let Some(payload) = bytes.get(pos + HEADER..pos + HEADER + len) else {
                break;
            };
            if crc32fast::hash(payload) != crc {
                break;
            }
            let Some((lsn, rec)) = parse(payload) else {
                break;
            };
            if lsn <= last_lsn {
                break;
            }
            last_lsn = lsn;
            records.push((lsn, rec));
            pos += HEADER + len;
        }
        if pos < bytes.len() {
            file.set_len(pos as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::Start(pos as u64))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok((
            Wal {
                file,
                len: pos as u64,
                last_lsn,
                fsync,
            },
            records,
        ))
    }

    /// Appends `ops` in one write (and one fsync under [`FsyncPolicy::Always`]); returns the last sequence number.
    pub(crate) fn append(&mut self, ops: &[Op<'_>]) -> Result<u64> {
        let mut buf = Vec::new();
        for op in ops {
            self.last_lsn += 1;
            let start = buf.len();
            buf.extend_from_slice(&[0u8; HEADER]);
            buf.extend_from_slice(&self.last_lsn.to_le_bytes());
            match op {
                Op::Insert(id, v) => {
                    buf.push(TAG_INSERT);
                    buf.extend_from_slice(&id.to_le_bytes());
                    buf.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    for x in *v {
                        buf.extend_from_slice(&x.to_le_bytes());
                    }
                }
                Op::Remove(id) => {
                    buf.push(TAG_REMOVE);
                    buf.extend_from_slice(&id.to_le_bytes());
                }
            }
            let len = (buf.len() - start - HEADER) as u32;
            let crc = crc32fast::hash(&buf[start + HEADER..]);
            buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
            buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
        }
        if let Err(e) = self.file.write_all(&buf).and_then(|()| self.sync()) {
            // Leave no half record in front of the next append.
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(SeekFrom::Start(self.len));
            return Err(e.into());
        }
        self.len += buf.len() as u64;
        Ok(self.last_lsn)
    }

    fn sync(&self) -> std::io::Result<()> {
        match self.fsync {
            FsyncPolicy::Always => self.file.sync_data(),
            FsyncPolicy::Never => Ok(()),
        }
    }

    /// Empties the log after a snapshot has made its records redundant; sequence numbers keep growing.
    pub(crate) fn reset(&mut self) -> Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.sync_all()?;
        self.len = 0;
        Ok(())
    }

    /// Makes sequence numbers continue after `lsn` (the snapshot's), if the log is behind it.
    pub(crate) fn continue_after(&mut self, lsn: u64) {
        self.last_lsn = self.last_lsn.max(lsn);
    }

    /// The last sequence number written.
    pub(crate) fn last_lsn(&self) -> u64 {
        self.last_lsn
    }

    /// Bytes in the log.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}

/// Fsyncs a directory so that a created or renamed file in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_and_cuts_torn_tails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.log");
        {
            let (mut wal, recs) = Wal::open(&path, FsyncPolicy::Always).expect("open");
            assert!(recs.is_empty());
            wal.append(&[Op::Insert(7, &[1.0, 2.0]), Op::Remove(7)])
                .expect("append");
            wal.append(&[Op::Insert(8, &[3.0, 4.0])]).expect("append");
        }
        let full = std::fs::read(&path).expect("read");
        for cut in [full.len() - 1, full.len() - 9, full.len() - 20] {
            std::fs::write(&path, &full[..cut]).expect("write");
            let (wal, recs) = Wal::open(&path, FsyncPolicy::Always).expect("open");
            assert_eq!(recs.len(), 2, "cut at {cut}");
            assert_eq!(recs[0], (1, Record::Insert(7, vec![1.0, 2.0])));
            assert_eq!(wal.len(), std::fs::metadata(&path).expect("meta").len());
        }
        let mut bad = full.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        std::fs::write(&path, &bad).expect("write");
        let (mut wal, recs) = Wal::open(&path, FsyncPolicy::Never).expect("open");
        assert_eq!(recs.len(), 2, "a flipped bit fails the checksum");
        assert_eq!(wal.append(&[Op::Remove(8)]).expect("append"), 3);
        drop(wal);
        let (_, recs) = Wal::open(&path, FsyncPolicy::Never).expect("open");
        assert_eq!(recs.last(), Some(&(3, Record::Remove(8))));
    }
}
