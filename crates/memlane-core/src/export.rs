//! The portable export format: versioned JSONL.
//!
//! The first line is a header, `{"format":"memlane-export","version":1,"exported_at":"…"}`;
//! every following line is one [`Memory`] in its JSON form. Importing an export into any store reproduces every
//! field exactly (id, timestamps, version, embedding); importing the same file twice creates nothing new.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::{
    AddOptions, Error, ListQuery, Memory, MemoryStore, NewMemory, Result, Scope, Timestamp,
};

/// The `format` of the header line.
pub const FORMAT: &str = "memlane-export";
/// The version of the format this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The header line of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version.
    pub version: u32,
    /// When the export started.
    pub exported_at: Timestamp,
}

impl Header {
    /// A header for an export starting now.
    pub fn now() -> Self {
        Header {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            exported_at: Timestamp::now(),
        }
    }
}

fn io_err(e: std::io::Error) -> Error {
    Error::unavailable("export", format!("I/O error: {e}"), Some(Box::new(e)))
}

/// Writes every memory in `scope` to `out` as an export; returns how many.
pub async fn export<W: Write + Send>(
    store: &dyn MemoryStore,
    scope: &Scope,
    out: &mut W,
) -> Result<u64> {
    let line = serde_json::to_string(&Header::now())
        .map_err(|e| Error::internal("export", e.to_string(), None))?;
    writeln!(out, "{line}").map_err(io_err)?;
    let mut query = ListQuery::new(scope.clone()).limit(store.capabilities().limits.max_limit);
    let mut n = 0;
    loop {
        let page = store.list(&query).await?;
        for m in &page.memories {
            let line = serde_json::to_string(m)
                .map_err(|e| Error::internal("export", e.to_string(), None))?;
            writeln!(out, "{line}").map_err(io_err)?;
            n += 1;
        }
        match page.next {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    out.flush().map_err(io_err)?;
    Ok(n)
}

/// How an import went.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Memories stored now.
    pub created: u64,
    /// Memories that were already there (same id and content).
    pub existing: u64,
    /// Lines skipped, with their line numbers and why (only with `skip_invalid`).
    pub skipped: Vec<(u64, String)>,
}

/// Options of [`import`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Skip malformed lines (reported in [`ImportReport::skipped`]) instead of stopping at the first.
    pub skip_invalid: bool,
    /// Memories per `add`.
    pub batch: Option<usize>,
}

/// Reads an export from `input` into `tenant` of `store` (every memory's tenant becomes `tenant`).
///
/// Memories are added in batches; a malformed line stops the import with an error naming its line number (the
/// batches before it stay stored, and a rerun skips them), unless `skip_invalid` is set.
pub async fn import<R: BufRead + Send>(
    store: &dyn MemoryStore,
    tenant: &str,
    input: R,
    opts: ImportOptions,
) -> Result<ImportReport> {
    let batch_size = opts
        .batch
        .unwrap_or(500)
        .clamp(1, store.capabilities().limits.max_batch);
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(batch_size);
    let mut saw_header = false;
    for (i, line) in input.lines().enumerate() {
        let lineno = i as u64 + 1;
        let line = line.map_err(io_err)?;
        if line.trim().is_empty() {
            continue;
        }
        if !saw_header {
            let h: Header = serde_json::from_str(&line).map_err(|e| {
                Error::invalid("line 1", format!("not a memlane export header: {e}"))
            })?;
            if h.format != FORMAT || h.version != FORMAT_VERSION {
                return Err(Error::invalid(
                    "line 1",
                    format!(
                        "format {} version {} is not {FORMAT} version {FORMAT_VERSION}",
                        h.format, h.version
                    ),
                ));
            }
            saw_header = true;
            continue;
        }
        let parsed = serde_json::from_str::<Memory>(&line)
            .map_err(|e| e.to_string())
            .and_then(|mut m| {
                m.scope.tenant = tenant.to_owned();
                let now = Timestamp::now();
                let new = NewMemory::restore(m);
                store
                    .capabilities()
                    .limits
                    .check_new("memory", &new, now)
                    .map_err(|e| e.to_string())?;
                Ok(new)
            });
        match parsed {
            Ok(m) => batch.push(m),
            Err(e) if opts.skip_invalid => report.skipped.push((lineno, e)),
            Err(e) => return Err(Error::invalid(format!("line {lineno}"), e)),
        }
        if batch.len() >= batch_size {
            flush(store, &mut batch, &mut report).await?;
        }
    }
    if !saw_header {
        return Err(Error::invalid(
            "line 1",
            "the input is empty: expected a memlane export header",
        ));
    }
    flush(store, &mut batch, &mut report).await?;
    Ok(report)
}

async fn flush(
    store: &dyn MemoryStore,
    batch: &mut Vec<NewMemory>,
    report: &mut ImportReport,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let added = store
        .add(std::mem::take(batch), AddOptions { dedup: Some(false) })
        .await?;
    for a in added {
        if a.created {
            report.created += 1;
        } else {
            report.existing += 1;
        }
    }
    Ok(())
}
