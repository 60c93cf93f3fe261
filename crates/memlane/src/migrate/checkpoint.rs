//! The checkpoint file of a migration: where each tenant's copy stands, so that a rerun continues there.
//!
//! It is JSON, rewritten after every batch that the destination acknowledged, atomically (a temporary file beside
//! it, then a rename), so a crash leaves either the old or the new state, never a torn one. Correctness never
//! depends on it being current: adds are idempotent by id, so a checkpoint that lags by a batch only makes the
//! rerun add that batch again, which creates nothing. It holds no secret: the migration it belongs to is named by
//! a sha256 of its source, destination and selection (URLs may carry passwords).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use memlane_core::{Cursor, Error, Result};
use serde::{Deserialize, Serialize};

/// Where one tenant's copy stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantProgress {
    /// The listing position after the last batch written (`None`: from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// Memories read and written so far (over every run).
    pub copied: u64,
    /// Whether every memory of the tenant has been written.
    pub done: bool,
}

/// The state of a migration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version (1).
    pub version: u32,
    /// sha256 of the migration's source, destination and selection: a checkpoint is used only by its own migration.
    pub job: String,
    /// The tenants to copy, in order, with their progress.
    pub tenants: BTreeMap<String, TenantProgress>,
}

fn io(what: String, e: std::io::Error) -> Error {
    Error::unavailable("checkpoint", format!("{what}: {e}"), Some(Box::new(e)))
}

impl Checkpoint {
    /// A new checkpoint of `job` over `tenants`.
    pub fn new(job: String, tenants: &[String]) -> Self {
        Checkpoint {
            version: 1,
            job,
            tenants: tenants
                .iter()
                .map(|t| (t.clone(), TenantProgress::default()))
                .collect(),
        }
    }

    /// Reads the checkpoint at `path`; `None` when there is no file.
    pub fn load(path: &Path) -> Result<Option<Checkpoint>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(format!("cannot read {}", path.display()), e)),
        };
        let cp: Checkpoint = serde_json::from_str(&text).map_err(|e| {
            Error::invalid(
                "checkpoint",
                format!(
                    "{} is not a memlane migration checkpoint ({e}); delete it to start over",
                    path.display()
                ),
            )
        })?;
        if cp.version != 1 {
            return Err(Error::invalid(
                "checkpoint",
                format!("{} has version {}, expected 1", path.display(), cp.version),
            ));
        }
        Ok(Some(cp))
    }

    /// Writes it to `path` atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::internal("checkpoint", e.to_string(), None))?;
        let tmp = tmp_path(path);
        std::fs::write(&tmp, text).map_err(|e| io(format!("cannot write {}", tmp.display()), e))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            io(
                format!("cannot rename {} to {}", tmp.display(), path.display()),
                e,
            )
        })
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_atomically() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| io("tempdir".into(), e))?;
        let path = dir.path().join("cp.json");
        assert_eq!(Checkpoint::load(&path)?, None);
        let mut cp = Checkpoint::new("job".into(), &["a".into(), "b".into()]);
        if let Some(t) = cp.tenants.get_mut("a") {
            t.copied = 5;
            t.done = true;
        }
        cp.save(&path)?;
        assert_eq!(Checkpoint::load(&path)?, Some(cp));
        assert!(!tmp_path(&path).exists());
        std::fs::write(&path, "{").map_err(|e| io("write".into(), e))?;
        assert!(Checkpoint::load(&path).is_err());
        Ok(())
    }
}
