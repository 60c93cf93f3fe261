//! Outbox replay: applies the record of truth's change log to one tier, in order, idempotently.
//!
//! A change carries the memory's whole new state, so applying it is "make the tier hold exactly this": an add by
//! id (a no-op when the tier already holds the same memory), or, when the tier holds another state of it, a delete
//! and an add. Deletes and forgets of what the tier does not hold succeed. A change that the tier refuses for good
//! (not a temporary failure) is logged and skipped; `memlane repair` finds and fixes what that leaves behind.

use std::time::Duration;

use memlane_core::{
    AddOptions, Change, ChangeLog, ErrorKind, Memory, MemoryStore, NewMemory, Result, Timestamp,
};

use super::tier::Tier;
use super::NAME;

/// Why a drain stopped early.
#[derive(Debug)]
pub(crate) enum DrainError {
    /// Another replayer holds the lease (asked with no wait): it applies the changes.
    Busy,
    /// The tier or the change log failed (temporarily): the tier is behind.
    Failed(memlane_core::Error),
}

/// Applies every change the tier has not applied yet; returns how many it applied.
pub(crate) async fn drain(
    log: &dyn ChangeLog,
    tier: &Tier,
    batch: usize,
    wait: Duration,
) -> Result<u64, DrainError> {
    let store = tier.store().ok_or_else(|| {
        DrainError::Failed(memlane_core::Error::unavailable(
            NAME,
            format!("tier {:?} is not open", tier.name),
            None,
        ))
    })?;
    let mut lease = match log.lease(&tier.name, wait).await {
        Ok(l) => l,
        Err(e) if e.kind() == ErrorKind::Unavailable && wait.is_zero() => {
            return Err(DrainError::Busy)
        }
        Err(e) => return Err(DrainError::Failed(e)),
    };
    let mut applied = 0;
    let max_batch = store.capabilities().limits.max_batch.max(1);
    let result = async {
        loop {
            let changes = lease.next(batch).await?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                return Ok(());
            };
            let mut i = 0;
            while i < changes.len() {
                let run = upsert_run(&changes[i..], max_batch);
                let outcome = if run > 1 {
                    let ms: Vec<&Memory> = changes[i..i + run].iter().filter_map(|c| upserted(&c.change)).collect();
                    tier.timed(upsert_many(&*store, &ms)).await
                } else {
                    tier.timed(apply(&*store, &changes[i].change)).await
                };
                match outcome {
                    Ok(()) => applied += run as u64,
                    Err(e) if e.is_temporary() => {
                        let done = changes[i].seq.saturating_sub(1).max(lease.position());
                        if done > lease.position() {
                            lease.advance(done).await?;
                        }
                        return Err(e);
                    }
                    Err(e) => {
                        tracing::error!(backend = NAME, tier = %tier.name, seq = changes[i].seq, error = %e,
                            "the tier refused a change of the outbox: skipped (memlane repair fixes the drift)");
                    }
                }
                i += run;
            }
            lease.advance(last).await?;
        }
    }
    .await;
    let released = lease.release().await;
    result.and(released).map_err(DrainError::Failed)?;
    Ok(applied)
}

/// The memory of an upsert.
fn upserted(c: &Change) -> Option<&Memory> {
    match c {
        Change::Upsert { memory } => Some(memory),
        _ => None,
    }
}

/// How many changes from the start of `changes` can be applied as one batch: consecutive upserts of distinct
/// memories, at most `max`. At least 1.
fn upsert_run(changes: &[memlane_core::LoggedChange], max: usize) -> usize {
    let mut seen = std::collections::HashSet::new();
    let n = changes
        .iter()
        .take(max)
        .take_while(|c| {
            upserted(&c.change).is_some_and(|m| seen.insert((m.scope.tenant.as_str(), m.id)))
        })
        .count();
    n.max(1)
}

/// Applies several upserts of distinct memories: one batch add when the tier holds none of them in another state,
/// one by one otherwise.
async fn upsert_many(store: &dyn MemoryStore, ms: &[&Memory]) -> Result<()> {
    let now = Timestamp::now();
    let live: Vec<&Memory> = ms.iter().copied().filter(|m| !m.is_expired(now)).collect();
    let opts = AddOptions { dedup: Some(false) };
    let batch: Vec<NewMemory> = live
        .iter()
        .map(|m| NewMemory::restore((*m).clone()))
        .collect();
    let redo: Vec<&Memory> = if batch.is_empty() {
        Vec::new()
    } else {
        match store.add(batch, opts).await {
            Ok(added) => live
                .iter()
                .zip(&added)
                .filter(|(m, a)| !a.created && a.memory != ***m)
                .map(|(m, _)| *m)
                .collect(),
            Err(e) if e.is_temporary() => return Err(e),
            Err(_) => live.clone(),
        }
    };
    let expired = ms.iter().copied().filter(|m| m.is_expired(now));
    for m in redo.into_iter().chain(expired) {
        upsert(store, m).await?;
    }
    Ok(())
}

/// Makes `store` reflect one change.
pub(crate) async fn apply(store: &dyn MemoryStore, change: &Change) -> Result<()> {
    match change {
        Change::Upsert { memory } => upsert(store, memory).await,
        Change::Delete { tenant, id } => ignore_missing(store.delete(tenant, *id).await),
        Change::Forget { scope } => store.forget(scope).await.map(|_| ()),
    }
}

fn ignore_missing(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Makes `store` hold exactly `m` (or nothing, when `m` has expired).
pub(crate) async fn upsert(store: &dyn MemoryStore, m: &Memory) -> Result<()> {
    if m.is_expired(Timestamp::now()) {
        return ignore_missing(store.delete(&m.scope.tenant, m.id).await);
    }
    let opts = AddOptions { dedup: Some(false) };
    match store.add(vec![NewMemory::restore(m.clone())], opts).await {
        Ok(added) if added.iter().any(|a| a.created || a.memory == *m) => return Ok(()),
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::Conflict => {}
        Err(e) if m.is_expired(Timestamp::now()) => {
            // It expired on the way: nothing to hold.
            tracing::debug!(backend = NAME, error = %e, "a replayed memory expired");
            return ignore_missing(store.delete(&m.scope.tenant, m.id).await);
        }
        Err(e) => return Err(e),
    }
    ignore_missing(store.delete(&m.scope.tenant, m.id).await)?;
    store
        .add(vec![NewMemory::restore(m.clone())], opts)
        .await
        .map(|_| ())
}
