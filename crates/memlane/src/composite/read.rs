//! Reads with fallback: each goes to the first tier of its route that is up and caught up; when that fails (an
//! error that is the tier's, not the request's, or a timeout) the next one answers and the answer is degraded.
//! When none can and the record of truth is down, a tier that is behind the outbox answers, degraded as stale
//! (unless `serve_stale = false`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use memlane_core::{
    Capabilities, Error, ErrorKind, Filter, ListQuery, Memory, MemoryId, MemoryStore, Page, Result,
    Scope, Scored, SearchMode, SearchQuery,
};

use super::served::{report, Degraded, Served};
use super::tier::{is_tier_failure, Tier};
use super::{CompositeStore, Inner, Route, NAME};

/// What happened on the way to an answer.
#[derive(Default)]
struct Trail {
    skipped: Vec<(String, String)>,
    last_error: Option<Error>,
    /// The tiers passed over because they are behind the outbox, in route order.
    behind: Vec<Arc<Tier>>,
    /// The answer came from a tier that is behind.
    stale: bool,
}

impl Trail {
    fn skip(&mut self, t: &Tier, why: String) {
        self.skipped.push((t.name.clone(), why));
    }

    /// Passes over a tier that is down or behind the outbox.
    fn pass_over(&mut self, t: &Arc<Tier>) {
        self.skip(t, "down or behind the outbox".into());
        self.behind.push(t.clone());
    }

    /// The tiers that may still answer, stale: those passed over, when the record of truth is down and stale
    /// reads are allowed (none otherwise).
    fn stale_candidates(&mut self, inner: &Inner) -> Vec<Arc<Tier>> {
        if inner.config.serve_stale() && inner.record_down.load(Ordering::Acquire) {
            std::mem::take(&mut self.behind)
        } else {
            Vec::new()
        }
    }

    fn fail(&mut self, inner: &Inner, t: &Tier, e: Error) {
        if t.name == inner.record.name {
            inner
                .record_down
                .store(e.kind() == ErrorKind::Unavailable, Ordering::Release);
        } else if e.kind() != ErrorKind::Unsupported {
            t.set_fresh(false);
        }
        self.skip(t, e.to_string());
        self.last_error = Some(e);
    }

    fn error(self) -> Error {
        self.last_error
            .unwrap_or_else(|| Error::unavailable(NAME, "no tier of the route can answer", None))
    }
}

impl Inner {
    /// Whether `t` may answer a read now: the record always may, another tier when up and caught up.
    fn readable(&self, t: &Tier) -> bool {
        t.name == self.record.name || t.is_fresh()
    }

    /// Wraps an answer, reporting it when degraded.
    fn served<T>(
        &self,
        value: T,
        tier: &Tier,
        trail: Trail,
        fallback_mode: Option<SearchMode>,
    ) -> Served<T> {
        let record_down = tier.name != self.record.name && self.record_down.load(Ordering::Acquire);
        let mut skipped = trail.skipped;
        if trail.stale {
            skipped.retain(|(n, _)| *n != tier.name);
        }
        if record_down && !skipped.iter().any(|(n, _)| *n == self.record.name) {
            skipped.push((
                self.record.name.clone(),
                "the record of truth is down".into(),
            ));
        }
        let degraded =
            (!skipped.is_empty() || fallback_mode.is_some() || trail.stale).then(|| Degraded {
                tier: tier.name.clone(),
                skipped,
                fallback_mode,
                stale: trail.stale,
            });
        if let Some(d) = &degraded {
            report(d);
        }
        Served {
            value,
            tier: tier.name.clone(),
            degraded,
        }
    }

    /// Runs `f` on the route's tiers in order until one answers.
    async fn first<T, F, Fut>(&self, route: &Route, f: F) -> Result<(T, Arc<Tier>, Trail)>
    where
        F: Fn(Arc<dyn MemoryStore>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut trail = Trail::default();
        for t in &route.tiers {
            if !self.readable(t) {
                trail.pass_over(t);
                continue;
            }
            match t.call(&f).await {
                Ok(v) => {
                    if t.name == self.record.name {
                        self.record_down.store(false, Ordering::Release);
                    }
                    return Ok((v, t.clone(), trail));
                }
                Err(e) if is_tier_failure(&e) => trail.fail(self, t, e),
                Err(e) => return Err(e),
            }
        }
        for t in trail.stale_candidates(self) {
            match t.call(&f).await {
                Ok(v) => {
                    trail.stale = true;
                    return Ok((v, t, trail));
                }
                // The record's failure is the error to report.
                Err(e) if is_tier_failure(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Err(trail.error())
    }
}

impl CompositeStore {
    /// `get`, with the tier that answered. A tier that does not hold the memory passes it to the next (a miss is
    /// not degraded); only the record of truth says it does not exist.
    pub async fn get_served(&self, tenant: &str, id: MemoryId) -> Result<Served<Memory>> {
        let inner = &self.inner;
        let mut trail = Trail::default();
        for t in &inner.get.tiers {
            if !inner.readable(t) {
                trail.pass_over(t);
                continue;
            }
            let is_record = t.name == inner.record.name;
            match t.call(|s| async move { s.get(tenant, id).await }).await {
                Ok(m) => return Ok(inner.served(m, t, trail, None)),
                Err(e) if e.kind() == ErrorKind::NotFound && !is_record => {}
                Err(e) if is_tier_failure(&e) => trail.fail(inner, t, e),
                Err(e) => {
                    if is_record {
                        inner.record_down.store(false, Ordering::Release);
                    }
                    return Err(e);
                }
            }
        }
        // A stale tier's miss proves nothing: the record's failure is the answer then.
        for t in trail.stale_candidates(inner) {
            match t.call(|s| async move { s.get(tenant, id).await }).await {
                Ok(m) => {
                    trail.stale = true;
                    return Ok(inner.served(m, &t, trail, None));
                }
                Err(e) if e.kind() == ErrorKind::NotFound || is_tier_failure(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Err(trail.error())
    }

    /// `get_many`, with the tier that answered the first ids (later tiers fill in what it does not hold).
    pub async fn get_many_served(
        &self,
        tenant: &str,
        ids: &[MemoryId],
    ) -> Result<Served<Vec<Memory>>> {
        let inner = &self.inner;
        let mut trail = Trail::default();
        let mut found: HashMap<MemoryId, Memory> = HashMap::new();
        let mut first: Option<Arc<Tier>> = None;
        let mut record_answered = false;
        for t in &inner.get.tiers {
            let missing: Vec<MemoryId> = ids
                .iter()
                .filter(|id| !found.contains_key(id))
                .copied()
                .collect();
            if missing.is_empty() && first.is_some() {
                break;
            }
            if !inner.readable(t) {
                trail.pass_over(t);
                continue;
            }
            let missing = &missing;
            match t
                .call(|s| async move { s.get_many(tenant, missing).await })
                .await
            {
                Ok(ms) => {
                    found.extend(ms.into_iter().map(|m| (m.id, m)));
                    first.get_or_insert_with(|| t.clone());
                    record_answered |= t.name == inner.record.name;
                }
                Err(e) if is_tier_failure(&e) => trail.fail(inner, t, e),
                Err(e) => return Err(e),
            }
        }
        let wanted = ids.iter().collect::<std::collections::HashSet<_>>().len();
        if found.len() < wanted && !record_answered {
            for t in trail.stale_candidates(inner) {
                let missing: Vec<MemoryId> = ids
                    .iter()
                    .filter(|id| !found.contains_key(id))
                    .copied()
                    .collect();
                let missing = &missing;
                match t
                    .call(|s| async move { s.get_many(tenant, missing).await })
                    .await
                {
                    Ok(ms) if !ms.is_empty() => {
                        found.extend(ms.into_iter().map(|m| (m.id, m)));
                        first.get_or_insert_with(|| t.clone());
                        trail.stale = true;
                    }
                    Ok(_) => {}
                    Err(e) if is_tier_failure(&e) => {}
                    Err(e) => return Err(e),
                }
                if found.len() == wanted {
                    break;
                }
            }
        }
        let complete = found.len() == wanted;
        match first {
            Some(t) if complete || record_answered => {
                let out = ids.iter().filter_map(|id| found.get(id).cloned()).collect();
                Ok(inner.served(out, &t, trail, None))
            }
            _ => Err(trail.error()),
        }
    }

    /// `list`, with the tier that answered.
    pub async fn list_served(&self, query: &ListQuery) -> Result<Served<Page>> {
        let (v, t, trail) = self
            .inner
            .first(&self.inner.list, |s| async move { s.list(query).await })
            .await?;
        Ok(self.inner.served(v, &t, trail, None))
    }

    /// `count`, with the tier that answered.
    pub async fn count_served(
        &self,
        scope: &Scope,
        filter: Option<&Filter>,
    ) -> Result<Served<u64>> {
        let (v, t, trail) = self
            .inner
            .first(&self.inner.count, |s| async move {
                s.count(scope, filter).await
            })
            .await?;
        Ok(self.inner.served(v, &t, trail, None))
    }

    /// `search`, with the tier that answered. When no tier of a semantic or hybrid route can answer and the route
    /// ends with `"keyword"`, a keyword search answers, degraded, with `fallback_mode` saying so.
    pub async fn search_served(&self, query: &SearchQuery) -> Result<Served<Vec<Scored>>> {
        let inner = &self.inner;
        if !inner.caps.supports(Capabilities::for_mode(query.mode)) {
            return Err(Error::unsupported(NAME, Capabilities::for_mode(query.mode)));
        }
        let route = match query.mode {
            SearchMode::Keyword => &inner.keyword,
            SearchMode::Semantic => &inner.semantic,
            SearchMode::Hybrid => &inner.hybrid,
        };
        let err = match inner
            .first(route, |s| async move { s.search(query).await })
            .await
        {
            Ok((v, t, trail)) => return Ok(inner.served(v, &t, trail, None)),
            Err(e) => e,
        };
        let can_fall_back = route.keyword_fallback
            && query.mode != SearchMode::Keyword
            && is_tier_failure(&err)
            && inner.caps.keyword_search
            && !query.text.trim().is_empty();
        if !can_fall_back {
            return Err(err);
        }
        let mut q = query.clone();
        q.mode = SearchMode::Keyword;
        q.embedding = None;
        let q = &q;
        let (v, t, mut trail) = inner
            .first(&inner.keyword, |s| async move { s.search(q).await })
            .await?;
        for name in route.tiers.iter().map(|t| t.name.clone()) {
            trail
                .skipped
                .push((name, format!("{} search failed", query.mode)));
        }
        Ok(inner.served(v, &t, trail, Some(SearchMode::Keyword)))
    }
}
