//! Importers from other memory systems, and memlane's own export, with a report of what could not be mapped.
//!
//! Each importer first reads and maps its whole input ([`Parsed`]: the memories, the problems with their line
//! numbers or positions, the fields it could not map), then [`write`] stores the memories in batches. With
//! [`OnError::Abort`] a single problem stops the import before anything is written; with [`OnError::Skip`] the
//! problems are reported and the rest is stored. Every importer keeps the source's own ids in the metadata and
//! derives memlane ids from them deterministically, so importing the same input twice creates nothing new.
//!
//! - [`mem0`]: the JSON that mem0's `Memory.get_all()` returns (or one item per line).
//! - [`langgraph`] (feature `postgres`): the rows of LangGraph's PostgreSQL store table (`store`).
//! - [`memlane`]: memlane's export format (JSONL).
//!
//! The field mappings are documented in `docs/migration/`.

pub mod mem0;
pub mod memlane;

#[cfg(feature = "postgres")]
pub mod langgraph;

use std::collections::BTreeMap;

use memlane_core::{
    content_hash, AddOptions, Error, MemoryId, MemoryStore, NewMemory, Result, Timestamp,
};
use serde::Serialize;

/// What to do with a line or record that cannot be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Report it and import the rest.
    Skip,
    /// Import nothing at all.
    #[default]
    Abort,
}

impl std::str::FromStr for OnError {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "skip" => Ok(OnError::Skip),
            "abort" => Ok(OnError::Abort),
            _ => Err(Error::invalid(
                "on-error",
                format!("{s:?}: use skip or abort"),
            )),
        }
    }
}

/// One record that could not be imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Where: `line 12`, `results[3]`, `store row prefix=..., key=...`.
    pub at: String,
    /// Why.
    pub reason: String,
}

/// An input read and mapped, not yet written.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The memories to add.
    pub memories: Vec<NewMemory>,
    /// The records that could not be imported.
    pub problems: Vec<Problem>,
    /// Source fields that had no place in memlane's model and were dropped: field name → how many records.
    pub unmapped: BTreeMap<String, u64>,
    /// Records left out because they had already expired.
    pub expired: u64,
}

impl Parsed {
    pub(crate) fn problem(&mut self, at: impl Into<String>, reason: impl Into<String>) {
        self.problems.push(Problem {
            at: at.into(),
            reason: reason.into(),
        });
    }

    pub(crate) fn unmapped(&mut self, field: &str) {
        *self.unmapped.entry(field.to_owned()).or_default() += 1;
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// The input format.
    pub format: String,
    /// Memories stored now.
    pub created: u64,
    /// Memories that were already there (same id and content: a repeated import).
    pub existing: u64,
    /// Records not imported, with where and why.
    pub skipped: Vec<Problem>,
    /// Source fields dropped (no place in memlane's model): field → records.
    pub unmapped: BTreeMap<String, u64>,
    /// Records left out because they had already expired.
    pub expired: u64,
}

/// Writes what an importer read into `store` (see the module docs for `on_error`).
pub async fn write(
    store: &dyn MemoryStore,
    format: &str,
    parsed: Parsed,
    on_error: OnError,
) -> Result<ImportReport> {
    if on_error == OnError::Abort && !parsed.problems.is_empty() {
        let list: Vec<String> = parsed
            .problems
            .iter()
            .take(20)
            .map(|p| format!("{}: {}", p.at, p.reason))
            .collect();
        let more = parsed.problems.len().saturating_sub(20);
        let tail = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        return Err(Error::invalid(
            "input",
            format!(
                "{} record(s) cannot be imported, so nothing was ({}{tail}); fix them or use --on-error skip",
                parsed.problems.len(),
                list.join("; ")
            ),
        ));
    }
    let mut report = ImportReport {
        format: format.to_owned(),
        skipped: parsed.problems,
        unmapped: parsed.unmapped,
        expired: parsed.expired,
        ..ImportReport::default()
    };
    let batch = store.capabilities().limits.max_batch.clamp(1, 1000);
    let mut memories = parsed.memories;
    while !memories.is_empty() {
        let rest = memories.split_off(batch.min(memories.len()));
        let added = store
            .add(memories, AddOptions { dedup: Some(false) })
            .await?;
        for a in added {
            if a.created {
                report.created += 1;
            } else {
                report.existing += 1;
            }
        }
        memories = rest;
    }
    Ok(report)
}

/// A deterministic id for a record of another system: the UUID itself when the source id is one, otherwise a
/// version 8 UUID from a sha256 of the system's name and the source id (so a repeated import finds it).
pub fn derived_id(system: &str, source_id: &str) -> MemoryId {
    if let Ok(id) = MemoryId::parse_str(source_id) {
        return id;
    }
    let hex = content_hash(&format!("memlane-import\u{1}{system}\u{1}{source_id}"));
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    b[6] = (b[6] & 0x0f) | 0x80; // version 8 (custom)
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    MemoryId::from_bytes(b)
}

/// Parses a timestamp as other systems write them: RFC 3339, or without an offset (taken as UTC), with any number
/// of fractional digits (kept to the millisecond), or a bare date (midnight UTC).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let iso = s.replacen(' ', "T", 1);
    iso.parse::<Timestamp>()
        .ok()
        .or_else(|| format!("{iso}Z").parse::<Timestamp>().ok())
        .or_else(|| format!("{iso}T00:00:00Z").parse::<Timestamp>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_keep_uuids() {
        let u = "019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b";
        assert_eq!(derived_id("mem0", u).to_string(), u);
        let a = derived_id("langgraph", "users.alice/k1");
        assert_eq!(a, derived_id("langgraph", "users.alice/k1"));
        assert_ne!(a, derived_id("langgraph", "users.alice/k2"));
        assert_eq!(a.get_version_num(), 8);
    }

    #[test]
    fn parses_the_usual_timestamp_shapes() {
        let ms = |s: &str| parse_time(s).map(Timestamp::as_millis);
        assert_eq!(
            ms("2024-07-20T02:34:56.123456-07:00"),
            Some(1_721_468_096_123)
        );
        assert_eq!(ms("2024-07-20T09:34:56.123456"), Some(1_721_468_096_123));
        assert_eq!(ms("2024-07-20 09:34:56.123+00:00"), Some(1_721_468_096_123));
        assert_eq!(ms("2001-01-01"), Some(978_307_200_000));
        assert_eq!(ms("yesterday"), None);
    }
}
