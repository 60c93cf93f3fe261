//! Migration between any two stores: streaming, resumable, verified.
//!
//! [`migrate`] copies every memory of the chosen tenants (optionally one scope, or the memories passing a filter)
//! from one [`MemoryStore`] to another, a page at a time (reading the next page while the previous one is being
//! written), with every field kept (id, timestamps, version, expiry; see [`memlane_core::NewMemory::restore`]).
//!
//! - **Resumable**: with a checkpoint file ([`checkpoint`]), a rerun after a crash, `kill -9` or Ctrl-C continues
//!   after the last batch the destination acknowledged. Adds are idempotent by id (an id that exists with the same
//!   content and scope is reported as existing), so nothing is ever duplicated, even when the checkpoint lags.
//! - **Verified**: at the end the per-scope counts and checksums ([`memlane_core::checksum`]) of both sides are
//!   computed and compared; any drift is in the report ([`MigrateReport::is_verified`]).
//! - **Embeddings** travel when the destination embeds with the same model, and are recomputed otherwise
//!   ([`EmbeddingPolicy`]).
//!
//! The listing order is newest first, so memories created in the source while a migration runs are not copied by
//! that run: stop writers first, or run it again (a rerun without the checkpoint copies only what is missing).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> memlane::Result<()> {
//! use memlane::migrate::{migrate, MigrateOptions, NoProgress};
//! use memlane::{MemoryStoreExt, NewMemory, Scope};
//! let from = memlane::open("memory://?embedder=none").await?;
//! let to = memlane::open("memory://?embedder=none").await?;
//! from.add_one(NewMemory::new(Scope::tenant("acme").with_user("alice"), "Alice likes tea")).await?;
//! let report = migrate(from.as_ref(), to.as_ref(), &MigrateOptions::default(), &NoProgress).await?;
//! assert!(report.is_verified());
//! assert_eq!(report.copied(), 1);
//! # Ok(()) }
//! ```

pub mod checkpoint;
mod embeddings;
mod progress;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use memlane_core::checksum::{self, ChecksumOptions, Checksums, Drift};
use memlane_core::{
    content_hash, AddOptions, Error, Filter, ListQuery, MemoryStore, NewMemory, Page, Result,
    Scope, Timestamp,
};
use serde::Serialize;

pub use checkpoint::{Checkpoint, TenantProgress};
pub use embeddings::{open_source, open_target, EmbeddingPolicy, Target};
pub use progress::{NoProgress, Progress};

/// The default number of memories per batch.
pub const DEFAULT_BATCH: usize = 1000;

/// Memories expiring sooner than this are not copied: they would be gone (or refused as already expired) by the
/// time the destination stores them.
const EXPIRY_MARGIN: Duration = Duration::from_secs(2);

/// The verification leaves out memories that expire within this long after it starts: the two sides are read a
/// moment apart and could disagree about them.
const VERIFY_GRACE: Duration = Duration::from_secs(600);

/// What to migrate, and how.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// The tenants; empty: every tenant of the source ([`MemoryStore::tenants`]).
    pub tenants: Vec<String>,
    /// Only this user, agent or session within each tenant.
    pub user: Option<String>,
    /// See `user`.
    pub agent: Option<String>,
    /// See `user`.
    pub session: Option<String>,
    /// Only the memories passing this filter.
    pub filter: Option<Filter>,
    /// Memories per read and per write (capped by both stores' limits).
    pub batch: usize,
    /// The checkpoint file: progress is saved there after every batch and resumed from it.
    pub checkpoint: Option<PathBuf>,
    /// What to do with vectors.
    pub embeddings: EmbeddingPolicy,
    /// Compare counts and checksums of both sides at the end.
    pub verify: bool,
    /// A name for the job, hashed into the checkpoint (e.g. the source and destination URLs), so that a checkpoint
    /// is never resumed by another migration.
    pub job: String,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            tenants: Vec::new(),
            user: None,
            agent: None,
            session: None,
            filter: None,
            batch: DEFAULT_BATCH,
            checkpoint: None,
            embeddings: EmbeddingPolicy::Keep,
            verify: true,
            job: String::new(),
        }
    }
}

impl MigrateOptions {
    fn scope(&self, tenant: &str) -> Scope {
        Scope {
            tenant: tenant.to_owned(),
            user: self.user.clone(),
            agent: self.agent.clone(),
            session: self.session.clone(),
        }
    }

    /// The identity of this migration, as kept in the checkpoint: a sha256 of the job name and the selection.
    pub fn job_id(&self) -> String {
        let filter = self
            .filter
            .as_ref()
            .map(|f| f.to_json().to_string())
            .unwrap_or_default();
        content_hash(&format!(
            "memlane-migrate\u{1}{}\u{1}{:?}\u{1}{:?}\u{1}{:?}\u{1}{:?}\u{1}{filter}",
            self.job, self.tenants, self.user, self.agent, self.session
        ))
    }
}

/// What happened to one tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TenantReport {
    /// The tenant.
    pub tenant: String,
    /// Memories read and written, over every run (from the checkpoint).
    pub copied: u64,
    /// Of those written by this run: stored now.
    pub created: u64,
    /// Of those written by this run: already in the destination (same id and content: a resumed batch).
    pub existing: u64,
    /// Memories left out because they expire within seconds.
    pub skipped_expiring: u64,
    /// Vectors dropped to be recomputed by the destination.
    pub reembedded: u64,
}

/// The result of the verification of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantVerification {
    /// The source's counts and checksums.
    pub source: Checksums,
    /// The destination's.
    pub target: Checksums,
    /// Where they differ (empty: identical).
    pub drift: Drift,
}

/// The result of a migration.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MigrateReport {
    /// Per tenant.
    pub tenants: Vec<TenantReport>,
    /// The verification, per tenant (empty when not asked for).
    pub verification: Vec<TenantVerification>,
    /// How long the copy took (this run).
    pub copy_seconds: f64,
    /// How long the verification took.
    pub verify_seconds: f64,
}

impl MigrateReport {
    /// Memories copied over every run.
    pub fn copied(&self) -> u64 {
        self.tenants.iter().map(|t| t.copied).sum()
    }

    /// Memories written by this run.
    pub fn written(&self) -> u64 {
        self.tenants.iter().map(|t| t.created + t.existing).sum()
    }

    /// Whether the verification ran and found no drift.
    pub fn is_verified(&self) -> bool {
        !self.verification.is_empty() && self.verification.iter().all(|v| v.drift.is_empty())
    }
}

/// Copies memories from `from` to `to` (see the module docs), then verifies both sides if asked.
pub async fn migrate(
    from: &dyn MemoryStore,
    to: &dyn MemoryStore,
    opts: &MigrateOptions,
    progress: &dyn Progress,
) -> Result<MigrateReport> {
    let job = opts.job_id();
    let mut cp = match &opts.checkpoint {
        Some(path) => match Checkpoint::load(path)? {
            Some(cp) if cp.job != job => {
                return Err(Error::invalid(
                    "checkpoint",
                    format!(
                        "{} belongs to another migration (other stores or selection): delete it, or name another \
                         checkpoint file",
                        path.display()
                    ),
                ))
            }
            Some(cp) => cp,
            None => Checkpoint::new(job, &tenants(from, opts).await?),
        },
        None => Checkpoint::new(job, &tenants(from, opts).await?),
    };
    let limit = opts
        .batch
        .clamp(1, from.capabilities().limits.max_limit)
        .min(to.capabilities().limits.max_batch.max(1));
    let started = Instant::now();
    let mut report = MigrateReport::default();
    let names: Vec<String> = cp.tenants.keys().cloned().collect();
    for tenant in names {
        let r = copy_tenant(from, to, opts, &tenant, limit, &mut cp, progress).await?;
        report.tenants.push(r);
    }
    report.copy_seconds = started.elapsed().as_secs_f64();
    if opts.verify {
        let started = Instant::now();
        let tenants: Vec<String> = cp.tenants.keys().cloned().collect();
        report.verification = verify(from, to, opts, &tenants).await?;
        report.verify_seconds = started.elapsed().as_secs_f64();
    }
    Ok(report)
}

async fn tenants(from: &dyn MemoryStore, opts: &MigrateOptions) -> Result<Vec<String>> {
    if !opts.tenants.is_empty() {
        let mut t = opts.tenants.clone();
        t.sort();
        t.dedup();
        for name in &t {
            Scope::tenant(name.clone()).validate()?;
        }
        return Ok(t);
    }
    from.tenants().await.map_err(|e| match e {
        Error::Unsupported { .. } => Error::invalid(
            "tenants",
            format!(
                "the {} store cannot list its tenants: name them (--tenant T, repeatable)",
                from.name()
            ),
        ),
        other => other,
    })
}

/// Copies one tenant, resuming from and saving to the checkpoint.
async fn copy_tenant(
    from: &dyn MemoryStore,
    to: &dyn MemoryStore,
    opts: &MigrateOptions,
    tenant: &str,
    limit: usize,
    cp: &mut Checkpoint,
    progress: &dyn Progress,
) -> Result<TenantReport> {
    let state = cp.tenants.get(tenant).cloned().unwrap_or_default();
    let mut report = TenantReport {
        tenant: tenant.to_owned(),
        copied: state.copied,
        ..TenantReport::default()
    };
    let scope = opts.scope(tenant);
    let total = from.count(&scope, opts.filter.as_ref()).await?;
    progress.tenant(tenant, state.copied, total.max(state.copied));
    if state.done {
        return Ok(report);
    }
    let mut query = ListQuery::new(scope).limit(limit);
    query.filter = opts.filter.clone();
    query.cursor = state.cursor;
    let mut first = Some(from.list(&query).await?);
    loop {
        // Two batches in flight at once (stores with a connection pool write them in parallel), while the page
        // after them is read.
        let Some(a) = first.take() else {
            return Ok(report);
        };
        let b = match a.next {
            Some(c) => {
                query.cursor = Some(c);
                Some(from.list(&query).await?)
            }
            None => None,
        };
        let next = b.as_ref().map_or(a.next, |b| b.next);
        let count = a.memories.len() as u64 + b.as_ref().map_or(0, |b| b.memories.len() as u64);
        let batch_a = prepare(a, opts, &mut report);
        let batch_b = b.map(|b| prepare(b, opts, &mut report));
        let read = async {
            match next {
                Some(c) => {
                    query.cursor = Some(c);
                    from.list(&query).await.map(Some)
                }
                None => Ok(None),
            }
        };
        let write_b = async {
            match batch_b {
                Some(batch) => write_batch(to, batch).await,
                None => Ok((0, 0)),
            }
        };
        let (wa, wb, read) = tokio::join!(write_batch(to, batch_a), write_b, read);
        for (created, existing) in [wa?, wb?] {
            report.created += created;
            report.existing += existing;
        }
        report.copied += count;
        let entry = cp.tenants.entry(tenant.to_owned()).or_default();
        entry.copied = report.copied;
        entry.cursor = next;
        entry.done = next.is_none();
        if let Some(path) = &opts.checkpoint {
            cp.save(path)?;
        }
        progress.advance(count);
        first = read?;
    }
}

/// The page's memories as they will be added: every field kept, the embedding policy applied, memories about to
/// expire left out.
fn prepare(page: Page, opts: &MigrateOptions, report: &mut TenantReport) -> Vec<NewMemory> {
    let soon = Timestamp::now().plus(EXPIRY_MARGIN);
    let mut out = Vec::with_capacity(page.memories.len());
    for m in page.memories {
        if m.expires_at.is_some_and(|e| e <= soon) {
            report.skipped_expiring += 1;
            continue;
        }
        let mut new = NewMemory::restore(m);
        if opts.embeddings.apply(&mut new) {
            report.reembedded += 1;
        }
        out.push(new);
    }
    out
}

/// Adds a batch without deduplication (two memories with the same content are two memories); returns how many
/// were created and how many already existed.
async fn write_batch(to: &dyn MemoryStore, batch: Vec<NewMemory>) -> Result<(u64, u64)> {
    if batch.is_empty() {
        return Ok((0, 0));
    }
    let added = to.add(batch, AddOptions { dedup: Some(false) }).await?;
    let created = added.iter().filter(|a| a.created).count() as u64;
    Ok((created, added.len() as u64 - created))
}

/// Counts and checksums of both sides, per tenant, read concurrently.
pub async fn verify(
    from: &dyn MemoryStore,
    to: &dyn MemoryStore,
    opts: &MigrateOptions,
    tenants: &[String],
) -> Result<Vec<TenantVerification>> {
    let copts = ChecksumOptions {
        filter: opts.filter.clone(),
        expiring_after: Some(Timestamp::now().plus(VERIFY_GRACE)),
    };
    let mut out = Vec::with_capacity(tenants.len());
    for t in tenants {
        let scope = opts.scope(t);
        let (source, target) = tokio::join!(
            checksum::checksum(from, &scope, &copts),
            checksum::checksum(to, &scope, &copts)
        );
        let (source, target) = (source?, target?);
        let drift = checksum::diff(&source, &target);
        out.push(TenantVerification {
            source,
            target,
            drift,
        });
    }
    Ok(out)
}

#[cfg(all(test, feature = "memory"))]
mod tests;
