//! The in-process store: memories in a map per tenant behind a lock, gone when dropped.
//!
//! It is the reference implementation of the [`MemoryStore`] contract: filters are evaluated by the reference
//! evaluator [`memlane_core::Filter::matches`], requests are validated by [`Limits`] before anything is written
//! (so every batch is all-or-nothing), expired memories are never returned and [`MemoryStore::purge_expired`]
//! removes them. Semantic search compares the query's vector with every stored vector of the same model (cosine
//! similarity, clamped to [0, 1]); keyword and hybrid search are not offered.
//!
//! With `outbox=true` it keeps a change log ([`memlane_core::ChangeLog`]) of its writes, appended under the same
//! lock as each write: a record of truth for the composite store in tests without servers.
//!
//! Open it with `memlane::open("memory://")` (options: `dedup=true|false`, default `true`; `outbox=true|false`,
//! default `false`) or
//! [`MemoryBackend::new`]:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> memlane::Result<()> {
//! use memlane::{MemoryStore, MemoryStoreExt, NewMemory, Scope};
//! let store = memlane::memory::MemoryBackend::new();
//! let m = store.add_one(NewMemory::new(Scope::tenant("acme"), "Alice likes tea")).await?;
//! assert_eq!(store.get("acme", m.id).await?.content, "Alice likes tea");
//! # Ok(()) }
//! ```

mod log;
mod semantic;
mod tenant;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use memlane_core::{
    content_hash, AddOptions, Added, Capabilities, Change, ChangeLog, Error, Filter, Limits,
    ListQuery, Memory, MemoryId, MemoryStore, NewMemory, Page, Result, Scope, Scored, SearchMode,
    SearchQuery, Timestamp, Update,
};

use log::MemoryLog;

use tenant::Tenant;

/// The backend's name, as carried by its errors.
const NAME: &str = "memory";

/// The in-process store. See the [module docs](self).
pub struct MemoryBackend {
    tenants: RwLock<HashMap<String, Tenant>>,
    dedup: bool,
    limits: Limits,
    log: Option<MemoryLog>,
}

impl Default for MemoryBackend {
    fn default() -> Self {
        MemoryBackend::new()
    }
}

impl fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenants = self.tenants.read().map(|t| t.len()).ok();
        f.debug_struct("MemoryBackend")
            .field("dedup", &self.dedup)
            .field("limits", &self.limits)
            .field("tenants", &tenants)
            .finish()
    }
}

impl MemoryBackend {
    /// An empty store with deduplication on and default limits.
    pub fn new() -> Self {
        MemoryBackend {
            tenants: RwLock::new(HashMap::new()),
            dedup: true,
            limits: Limits::default(),
            log: None,
        }
    }

    /// With a change log of its writes ([`MemoryStore::change_log`]), or without (the default).
    pub fn with_change_log(mut self, on: bool) -> Self {
        self.log = on.then(MemoryLog::default);
        self
    }

    /// Appends to the change log, if there is one (called with the write lock held).
    fn log(&self, changes: impl IntoIterator<Item = Change>) -> Result<()> {
        match &self.log {
            Some(l) => l.append(changes),
            None => Ok(()),
        }
    }

    /// Whether `add` deduplicates when its options leave it to the store (default `true`).
    pub fn with_dedup(mut self, dedup: bool) -> Self {
        self.dedup = dedup;
        self
    }

    /// With these limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Opens it from `memory://` options (`dedup=true|false`); takes no location.
    pub fn open_with(opts: &mut crate::OpenOptions) -> Result<Arc<dyn MemoryStore>> {
        if !opts.location.trim_matches('/').is_empty() {
            return Err(Error::invalid(
                "store",
                format!(
                    "the memory:// store takes no location, got {:?}",
                    opts.location
                ),
            ));
        }
        let dedup = opts.take_bool("dedup")?.unwrap_or(true);
        let outbox = opts.take_bool("outbox")?.unwrap_or(false);
        opts.finish()?;
        Ok(Arc::new(
            MemoryBackend::new()
                .with_dedup(dedup)
                .with_change_log(outbox),
        ))
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, HashMap<String, Tenant>>> {
        self.tenants.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, HashMap<String, Tenant>>> {
        self.tenants.write().map_err(|_| poisoned())
    }

    fn not_found(id: MemoryId) -> Error {
        Error::not_found(NAME, format!("memory {id}"))
    }

    /// Live memories in `scope` passing `filter`, newest first, after `cursor`; calls `f` with them.
    fn with_matching<T>(
        &self,
        scope: &Scope,
        filter: Option<&Filter>,
        f: impl FnOnce(&mut dyn Iterator<Item = &Memory>) -> T,
    ) -> Result<T> {
        scope.validate()?;
        let now = Timestamp::now();
        let guard = self.read()?;
        let mut it = guard
            .get(&scope.tenant)
            .into_iter()
            .flat_map(|t| t.newest_first(None, now))
            .filter(|m| scope.matches(&m.scope) && filter.is_none_or(|f| f.matches(m)));
        Ok(f(&mut it))
    }
}

fn poisoned() -> Error {
    Error::internal(
        NAME,
        "the store's lock is poisoned: a writer panicked",
        None,
    )
}

fn check_tenant(tenant: &str) -> Result<()> {
    Scope::tenant(tenant).validate()
}

/// What memory `i` of a batch comes to, decided before anything is written: an existing memory to return (same
/// id and content, or a duplicate), `None` to create it, or a conflict.
fn plan_one(
    i: usize,
    tenant: Option<&Tenant>,
    planned: &[Memory],
    new: &NewMemory,
    dedup: bool,
    now: Timestamp,
) -> Result<Option<Memory>> {
    if let Some(id) = new.id {
        let existing = planned
            .iter()
            .rev()
            .find(|m| m.id == id && m.scope.tenant == new.scope.tenant)
            .or_else(|| tenant.and_then(|t| t.live(id, now)));
        if let Some(e) = existing {
            if e.content == new.content && e.scope == new.scope {
                return Ok(Some(e.clone()));
            }
            return Err(Error::conflict(
                NAME,
                format!("memories[{i}]: memory {id} exists with other content or scope"),
            ));
        }
    }
    if dedup {
        let hash = content_hash(&new.content);
        let dup = planned
            .iter()
            .find(|m| m.scope == new.scope && m.content_hash == hash && !m.is_expired(now))
            .or_else(|| tenant.and_then(|t| t.find_duplicate(&new.scope, &hash, now)));
        if let Some(d) = dup {
            return Ok(Some(d.clone()));
        }
    }
    Ok(None)
}

#[async_trait]
impl MemoryStore for MemoryBackend {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::none();
        c.semantic_search = true;
        c.ttl = true;
        c.transactions = true;
        c.limits = self.limits;
        c
    }

    async fn add(&self, batch: Vec<NewMemory>, opts: AddOptions) -> Result<Vec<Added>> {
        let now = Timestamp::now();
        self.limits.check_batch(&batch, now)?;
        let dedup = opts.dedup.unwrap_or(self.dedup);
        let mut guard = self.write()?;
        // Decide every memory first (conflicts fail the whole batch), then write.
        let mut planned: Vec<Memory> = Vec::new();
        let mut out = Vec::with_capacity(batch.len());
        for (i, new) in batch.into_iter().enumerate() {
            let tenant = guard.get(&new.scope.tenant);
            match plan_one(i, tenant, &planned, &new, dedup, now)? {
                Some(existing) => out.push(Added {
                    memory: existing,
                    created: false,
                }),
                None => {
                    let m = new.into_memory(now);
                    planned.push(m.clone());
                    out.push(Added {
                        memory: m,
                        created: true,
                    });
                }
            }
        }
        self.log(planned.iter().map(|m| Change::Upsert { memory: m.clone() }))?;
        for m in planned {
            guard.entry(m.scope.tenant.clone()).or_default().insert(m);
        }
        Ok(out)
    }

    async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        check_tenant(tenant)?;
        let now = Timestamp::now();
        let guard = self.read()?;
        let Some(t) = guard.get(tenant) else {
            return Ok(Vec::new());
        };
        Ok(ids
            .iter()
            .filter_map(|id| t.live(*id, now).cloned())
            .collect())
    }

    async fn update(&self, tenant: &str, id: MemoryId, update: Update) -> Result<Memory> {
        check_tenant(tenant)?;
        self.limits.check_update(&update)?;
        let now = Timestamp::now();
        let mut guard = self.write()?;
        let t = guard.get_mut(tenant).ok_or_else(|| Self::not_found(id))?;
        let current = t.live(id, now).ok_or_else(|| Self::not_found(id))?;
        if let Some(expected) = update.expected_version {
            if expected != current.version {
                return Err(Error::version_mismatch(NAME, expected, current.version));
            }
        }
        let next = update.apply(current, now);
        self.log([Change::Upsert {
            memory: next.clone(),
        }])?;
        t.insert(next.clone());
        Ok(next)
    }

    async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        check_tenant(tenant)?;
        let now = Timestamp::now();
        let mut guard = self.write()?;
        let t = guard.get_mut(tenant).ok_or_else(|| Self::not_found(id))?;
        let removed = t.remove(id);
        if removed.is_some() {
            self.log([Change::Delete {
                tenant: tenant.to_owned(),
                id,
            }])?;
        }
        match removed {
            Some(m) if !m.is_expired(now) => Ok(()),
            _ => Err(Self::not_found(id)),
        }
    }

    async fn forget(&self, scope: &Scope) -> Result<u64> {
        scope.validate()?;
        let now = Timestamp::now();
        let mut guard = self.write()?;
        let Some(t) = guard.get_mut(&scope.tenant) else {
            return Ok(0);
        };
        let n = t.remove_where(now, |m| scope.matches(&m.scope));
        if n > 0 {
            self.log([Change::Forget {
                scope: scope.clone(),
            }])?;
        }
        if t.is_empty() {
            guard.remove(&scope.tenant);
        }
        Ok(n)
    }

    async fn list(&self, query: &ListQuery) -> Result<Page> {
        query.scope.validate()?;
        self.limits.check_limit(query.limit)?;
        let now = Timestamp::now();
        let guard = self.read()?;
        let Some(t) = guard.get(&query.scope.tenant) else {
            return Ok(Page {
                memories: Vec::new(),
                next: None,
            });
        };
        let memories = t
            .newest_first(query.cursor, now)
            .filter(|m| {
                query.scope.matches(&m.scope) && query.filter.as_ref().is_none_or(|f| f.matches(m))
            })
            .take(query.limit + 1)
            .cloned()
            .collect();
        Ok(Page::from_overfetch(memories, query.limit).shaped_for(query))
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Scored>> {
        if query.mode != SearchMode::Semantic {
            return Err(Error::unsupported(NAME, Capabilities::for_mode(query.mode)));
        }
        query.validate(&self.limits)?;
        let q = semantic::query_vector(query.embedding.as_ref())?;
        let mut hits = self.with_matching(&query.scope, query.filter.as_ref(), |it| {
            it.filter_map(|m| {
                let score = semantic::score(q, m)?;
                (score >= query.min_score.unwrap_or(0.0)).then(|| Scored {
                    memory: m.clone(),
                    score,
                })
            })
            .collect::<Vec<_>>()
        })?;
        semantic::rank(&mut hits);
        hits.truncate(query.limit);
        Ok(hits)
    }

    async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        self.with_matching(scope, filter, |it| it.count() as u64)
    }

    async fn health(&self) -> Result<()> {
        self.read().map(|_| ())
    }

    async fn purge_expired(&self) -> Result<u64> {
        let now = Timestamp::now();
        let mut guard = self.write()?;
        let mut n = 0;
        guard.retain(|_, t| {
            n += t.purge_expired(now);
            !t.is_empty()
        });
        Ok(n)
    }

    async fn tenants(&self) -> Result<Vec<String>> {
        let now = Timestamp::now();
        let guard = self.read()?;
        let mut out: Vec<String> = guard
            .iter()
            .filter(|(_, t)| t.newest_first(None, now).next().is_some())
            .map(|(name, _)| name.clone())
            .collect();
        out.sort();
        Ok(out)
    }

    fn change_log(&self) -> Option<&dyn ChangeLog> {
        self.log.as_ref().map(|l| l as &dyn ChangeLog)
    }
}
