//! The embedded store's text index in RAM, for keyword and hybrid search, and the ranking signals built on it.
//!
//! Every stored memory is also held here: its terms in an inverted index ([`index`]), its scope, creation time,
//! expiry and its neighbours in its session. The writer keeps it in step after each commit, as it does the vectors;
//! the database stays the record of truth and the index is rebuilt from it at open. Keyword search scores in RAM
//! with BM25 over the query's scope ([`bm25`]) and asks SQL only for metadata filters and for the rows it returns.
//!
//! Two signals refine the ranking of keyword and hybrid search (semantic search stays pure cosine similarity):
//! - **session context**: a memory in a session (a conversation: `scope.session`) is read with its neighbours, the
//!   memories just before and after it in that session by creation time. Its score becomes
//!   `(own + w · max(previous, next)) / (1 + w)` with `w` = [`CONTEXT_WEIGHT`], a missing neighbour counting as
//!   the memory itself (so memories without a session keep their score). A reply such as "Yes, last Sunday!" is
//!   found through the question it answers. In keyword search only memories with a query word are returned.
//! - **time**: when the query names a period ([`when`]: a day, a month, a year), memories created outside it score
//!   [`OUTSIDE_PERIOD`] times as much (a factor of the memory and the query only, so `min_score` keeps its meaning).
//!
//! Limits: the index follows the writes of this process; another process writing to the same directory is seen
//! only after reopening (as with the vectors).

pub(crate) mod bm25;
pub(crate) mod index;
pub(crate) mod tokenize;
pub(crate) mod when;

use std::sync::{RwLock, RwLockReadGuard};

use memlane_core::{Memory, NewMemory, Result, Scope};
use rusqlite::Connection;

use super::error::map;
pub(crate) use index::Terms;
use index::{Entry, Index, NO_SLOT};

/// How much a memory's best session neighbour counts in its score (its own match counts 1).
pub(crate) const CONTEXT_WEIGHT: f32 = 0.5;
/// The factor of a memory created outside the period a query names.
pub(crate) const OUTSIDE_PERIOD: f32 = 0.5;
/// Query words beyond this many are ignored.
pub(crate) const MAX_QUERY_TERMS: usize = 64;

/// Batches at least this large have their terms worked out on another thread while the writer runs SQL and waits
/// for the disk ([`Pending`]); smaller ones on the writer's thread.
pub(crate) const PARALLEL_MIN: usize = 8;

/// The terms of a batch's contents, being worked out on a blocking thread of the runtime.
#[derive(Debug)]
pub(crate) struct Pending(std::sync::mpsc::Receiver<Vec<Terms>>);

impl Pending {
    /// Starts on the contents of a batch, in order; `None` for small batches or outside a runtime.
    pub(crate) fn start(batch: &[NewMemory]) -> Option<Pending> {
        if batch.len() < PARALLEL_MIN {
            return None;
        }
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let contents: Vec<String> = batch.iter().map(|m| m.content.clone()).collect();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        handle.spawn_blocking(move || {
            // The writer may have failed and gone: nothing to do then.
            let _ = tx.send(contents.iter().map(|c| Terms::of(c)).collect());
        });
        Some(Pending(rx))
    }

    /// The terms, in batch order, once worked out; `None` if the task could not run.
    pub(crate) fn wait(self) -> Option<Vec<Terms>> {
        self.0.recv().ok()
    }
}

/// The text index, shared by readers and the writer.
#[derive(Debug, Default)]
pub(crate) struct TextIndex {
    inner: RwLock<Index>,
}

impl TextIndex {
    /// Indexes every stored memory.
    pub(crate) fn load(conn: &Connection) -> Result<TextIndex> {
        let mut ix = Index::default();
        let mut stmt = conn
            .prepare(
                "SELECT rowid, tenant, user_id, agent_id, session_id, content, created_ms, expires_ms \
                 FROM memories ORDER BY rowid",
            )
            .map_err(map)?;
        let mut rows = stmt.query([]).map_err(map)?;
        while let Some(r) = rows.next().map_err(map)? {
            let scope = Scope {
                tenant: r.get(1).map_err(map)?,
                user: r.get(2).map_err(map)?,
                agent: r.get(3).map_err(map)?,
                session: r.get(4).map_err(map)?,
            };
            let content: String = r.get(5).map_err(map)?;
            ix.put(&Entry {
                rowid: r.get(0).map_err(map)?,
                scope: &scope,
                content: &content,
                created_ms: r.get(6).map_err(map)?,
                expires_ms: r.get(7).map_err(map)?,
            });
        }
        Ok(TextIndex {
            inner: RwLock::new(ix),
        })
    }

    /// Read access for a search.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// After a commit: forgets `gone` and (re)indexes `stored` memories with their rowids.
    pub(crate) fn apply(&self, gone: &[i64], stored: &[(i64, &Memory)]) {
        let analyzed = stored
            .iter()
            .map(|(r, m)| (*r, *m, Terms::of(&m.content)))
            .collect();
        self.apply_terms(gone, analyzed);
    }

    /// As [`Self::apply`], with each memory's terms worked out already (outside the lock).
    pub(crate) fn apply_terms(&self, gone: &[i64], stored: Vec<(i64, &Memory, Terms)>) {
        if gone.is_empty() && stored.is_empty() {
            return;
        }
        let mut ix = self.inner.write().unwrap_or_else(|p| p.into_inner());
        for r in gone {
            ix.remove(*r);
        }
        for (rowid, m, terms) in stored {
            ix.put_terms(
                &Entry {
                    rowid,
                    scope: &m.scope,
                    content: &m.content,
                    created_ms: m.created_at.as_millis(),
                    expires_ms: m.expires_at.map(|t| t.as_millis()),
                },
                terms,
            );
        }
        if ix.wants_compaction() {
            ix.compact();
        }
    }

    /// After a commit deleted rows.
    pub(crate) fn remove(&self, rowids: &[i64]) {
        self.apply(rowids, &[]);
    }
}

/// A slot's score read with its session neighbours (see the module docs); `score` gives any slot's own score.
pub(crate) fn with_context(
    ix: &Index,
    slot: u32,
    now_ms: i64,
    mut score: impl FnMut(u32) -> f32,
) -> f32 {
    let own = score(slot);
    let [p, n] = ix.neighbours(slot, now_ms);
    if p == NO_SLOT && n == NO_SLOT {
        return own;
    }
    let mut side = |s: u32| if s == NO_SLOT { own } else { score(s) };
    let best = side(p).max(side(n));
    (own + CONTEXT_WEIGHT * best) / (1.0 + CONTEXT_WEIGHT)
}

/// Lowers the candidates created outside the periods the query names (every candidate equally when none is inside,
/// so the order is then unchanged).
pub(crate) fn prefer_periods(ix: &Index, periods: &[when::Period], ranked: &mut [(u32, f32)]) {
    if periods.is_empty() {
        return;
    }
    for (slot, score) in ranked.iter_mut() {
        if !when::within(periods, ix.created[*slot as usize]) {
            *score *= OUTSIDE_PERIOD;
        }
    }
}

/// The best `n` of `ranked`, best first (higher score, then the smaller key).
pub(crate) fn top<T: Copy + Ord>(mut ranked: Vec<(T, f32)>, n: usize) -> Vec<(T, f32)> {
    let by = |a: &(T, f32), b: &(T, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if ranked.len() > n && n > 0 {
        ranked.select_nth_unstable_by(n - 1, by);
        ranked.truncate(n);
    } else if n == 0 {
        ranked.clear();
    }
    ranked.sort_unstable_by(by);
    ranked
}

#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;
