//! The store's vector indexes: one [`memlane_vector::Index`] per embedding model and dimension, in `index-<no>`
//! directories beside the payload database, and their repair at open.
//!
//! The indexes are derived from the payload database: a vector gets a fresh id each time a memory's vector is set,
//! so the set of ids an index should hold is exactly the set of `vec_id`s in the payload. At open, ids the payload
//! has and the index lacks (a crash after the payload's commit) are inserted, and ids the index has and the payload
//! lacks (a crash before a removal reached the index) are removed. That is why the indexes do not fsync their own
//! log: the payload's commit is the durable point of every write.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use memlane_core::Result;
use memlane_vector::{Index, IndexConfig};
use rusqlite::Connection;

use super::error::{index as index_err, poisoned};
use super::payload;
use super::state::Entry;

/// One index with its model and dimension.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) no: u32,
    pub(crate) model: String,
    pub(crate) dim: usize,
    pub(crate) index: Arc<Index>,
}

/// Every index of the store.
#[derive(Debug)]
pub(crate) struct Indexes {
    dir: PathBuf,
    template: IndexConfig,
    slots: RwLock<Vec<Slot>>,
}

fn index_dir(dir: &Path, no: u32) -> PathBuf {
    dir.join(format!("index-{no}"))
}

impl Indexes {
    /// Opens every recorded index and repairs it against `entries` (the payload's rows); returns the indexes and
    /// the largest vector id seen in either.
    pub(crate) fn open(
        dir: &Path,
        template: IndexConfig,
        conn: &Connection,
        entries: &[Entry],
    ) -> Result<(Indexes, u64)> {
        let mut want: HashMap<u32, HashSet<u64>> = HashMap::new();
        let mut max_id = 0;
        for v in entries.iter().filter_map(|e| e.vec) {
            want.entry(v.index).or_default().insert(v.id);
            max_id = max_id.max(v.id);
        }
        let mut slots = Vec::new();
        for (no, model, dim) in payload::indexes(conn)? {
            let index = open_or_set_aside(dir, &template, no, dim)?;
            let expected = want.remove(&no).unwrap_or_default();
            max_id = max_id.max(repair(&index, conn, &expected)?);
            slots.push(Slot {
                no,
                model,
                dim,
                index: Arc::new(index),
            });
        }
        if let Some(no) = want.keys().next() {
            return Err(super::error::corrupt(format!(
                "memories refer to vector index {no}, which is not recorded"
            )));
        }
        let indexes = Indexes {
            dir: dir.to_path_buf(),
            template,
            slots: RwLock::new(slots),
        };
        Ok((indexes, max_id))
    }

    /// The index of `model` and `dim`, if there is one.
    pub(crate) fn find(&self, model: &str, dim: usize) -> Result<Option<Slot>> {
        let slots = self.slots.read().map_err(|_| poisoned())?;
        Ok(slots
            .iter()
            .find(|s| s.model == model && s.dim == dim)
            .cloned())
    }

    /// The index numbered `no`.
    pub(crate) fn get(&self, no: u32) -> Result<Option<Arc<Index>>> {
        let slots = self.slots.read().map_err(|_| poisoned())?;
        Ok(slots.iter().find(|s| s.no == no).map(|s| s.index.clone()))
    }

    /// Every index.
    pub(crate) fn all(&self) -> Result<Vec<Slot>> {
        Ok(self.slots.read().map_err(|_| poisoned())?.clone())
    }

    /// The index of `model` and `dim`, created (recorded in the payload database, then opened) if missing. Called
    /// by the writer only.
    pub(crate) fn ensure(&self, conn: &Connection, model: &str, dim: usize) -> Result<Slot> {
        if let Some(s) = self.find(model, dim)? {
            return Ok(s);
        }
        let no = payload::add_index(conn, model, dim)?;
        let index = open_index(&self.dir, &self.template, no, dim)?;
        let slot = Slot {
            no,
            model: model.to_owned(),
            dim,
            index: Arc::new(index),
        };
        self.slots
            .write()
            .map_err(|_| poisoned())?
            .push(slot.clone());
        Ok(slot)
    }

    /// Writes a snapshot of every index (reopening then loads it instead of replaying the log).
    pub(crate) fn snapshot(&self) -> Result<()> {
        for s in self.all()? {
            s.index.snapshot().map_err(index_err)?;
        }
        Ok(())
    }
}

fn open_index(dir: &Path, template: &IndexConfig, no: u32, dim: usize) -> Result<Index> {
    let config = IndexConfig {
        dimension: dim,
        ..template.clone()
    };
    Index::open(index_dir(dir, no), config).map_err(index_err)
}

/// Opens index `no`; a damaged one (a snapshot failing its checks) is renamed `index-<no>.damaged` and replaced by
/// an empty index, which the repair then fills from the payload.
fn open_or_set_aside(dir: &Path, template: &IndexConfig, no: u32, dim: usize) -> Result<Index> {
    let config = IndexConfig {
        dimension: dim,
        ..template.clone()
    };
    match Index::open(index_dir(dir, no), config) {
        Err(e @ memlane_vector::Error::Corrupt { .. }) => {
            let aside = dir.join(format!("index-{no}.damaged"));
            tracing::warn!(
                backend = super::error::NAME,
                error = %e,
                aside = %aside.display(),
                "a vector index is damaged: setting it aside and rebuilding it from the payload"
            );
            let _ = std::fs::remove_dir_all(&aside);
            std::fs::rename(index_dir(dir, no), &aside).map_err(|io| {
                memlane_core::Error::unavailable(
                    super::error::NAME,
                    format!("cannot set the damaged index aside: {io}"),
                    Some(Box::new(io)),
                )
            })?;
            open_index(dir, template, no, dim)
        }
        other => other.map_err(index_err),
    }
}

/// Makes `index` hold exactly the ids in `expected` (vectors read from the payload); returns the largest id the
/// index held.
fn repair(index: &Index, conn: &Connection, expected: &HashSet<u64>) -> Result<u64> {
    let held = index.ids();
    let max = held.iter().copied().max().unwrap_or(0);
    let mut removed = 0usize;
    for id in held.iter().filter(|id| !expected.contains(id)) {
        index.remove(*id).map_err(index_err)?;
        removed += 1;
    }
    let held: HashSet<u64> = held.into_iter().collect();
    let mut ids = Vec::new();
    let mut rows = Vec::new();
    for id in expected.iter().filter(|id| !held.contains(id)) {
        if let Some(v) = payload::vector_by_vec_id(conn, *id)? {
            if v.len() == index.dimension() {
                ids.push(*id);
                rows.extend_from_slice(&v);
            }
        }
    }
    if !ids.is_empty() {
        index.insert_batch(&ids, &rows).map_err(index_err)?;
    }
    if removed > 0 || !ids.is_empty() {
        tracing::info!(
            backend = super::error::NAME,
            inserted = ids.len(),
            removed,
            "repaired a vector index from the payload"
        );
    }
    Ok(max)
}
