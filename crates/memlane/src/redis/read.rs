//! Reads: `get_many` (one `HGETALL` per id, pipelined), and `list` and `count`, which walk a scope index newest
//! first with the scan script and evaluate filters in process with [`memlane_core::Filter::matches`].

use memlane_core::{Filter, ListQuery, Memory, MemoryId, Page, Result, Scope, Timestamp};
use redis::Value;

use super::error::{corrupt, map};
use super::keys::{member, TenantKeys};
use super::record::{bytes, decode, pairs};
use super::Inner;

/// The most index entries one scan script examines (bounds how long it holds the server).
const MAX_BUDGET: usize = 4096;
/// The fewest index entries one scan script examines.
const MIN_BUDGET: usize = 256;

/// What one scan script call found.
struct Scanned {
    /// The last index entry examined, to continue after; `None` when the index is exhausted.
    last: Option<String>,
    /// The live memories of the scope it found, newest first.
    memories: Vec<Memory>,
}

impl Inner {
    /// The keys of a tenant.
    pub(crate) fn keys(&self, tenant: &str) -> TenantKeys {
        TenantKeys::new(&self.config.prefix, tenant)
    }

    /// The live memories of `tenant` with these ids, in the order of `ids`.
    pub(crate) async fn get_many(&self, tenant: &str, ids: &[MemoryId]) -> Result<Vec<Memory>> {
        let keys = self.keys(tenant);
        let mut conn = self.conn.clone();
        let replies: Vec<Value> = match ids {
            [] => return Ok(Vec::new()),
            [id] => vec![redis::cmd("HGETALL")
                .arg(keys.memory(*id))
                .query_async(&mut conn)
                .await
                .map_err(map)?],
            _ => {
                let mut p = redis::pipe();
                for id in ids {
                    p.cmd("HGETALL").arg(keys.memory(*id));
                }
                p.query_async(&mut conn).await.map_err(map)?
            }
        };
        let now = Timestamp::now();
        let mut out = Vec::with_capacity(ids.len());
        for (id, reply) in ids.iter().zip(replies) {
            if let Some(fields) = pairs(reply)? {
                let m = decode(tenant, *id, &fields)?;
                if !m.is_expired(now) {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    /// One live memory, if there is one.
    pub(crate) async fn get_one(&self, tenant: &str, id: MemoryId) -> Result<Option<Memory>> {
        Ok(self.get_many(tenant, &[id]).await?.pop())
    }

    /// One scan script call over `scope`'s smallest candidate index, from `bound` down.
    async fn scan(
        &self,
        keys: &TenantKeys,
        scope: &Scope,
        bound: &str,
        budget: usize,
        want: usize,
    ) -> Result<Scanned> {
        let mut inv = self.scripts.scan.prepare_invoke();
        for k in keys.candidates(scope) {
            inv.key(k);
        }
        inv.arg(keys.memory_prefix())
            .arg(keys.expiry())
            .arg(keys.footprints())
            .arg(bound)
            .arg(budget)
            .arg(want)
            .arg(scope.user.as_deref().unwrap_or(""))
            .arg(scope.agent.as_deref().unwrap_or(""))
            .arg(scope.session.as_deref().unwrap_or(""));
        let mut conn = self.conn.clone();
        let reply: Value = inv.invoke_async(&mut conn).await.map_err(map)?;
        let Value::Array(parts) = reply else {
            return Err(corrupt("scan reply"));
        };
        let mut parts = parts.into_iter();
        let (Some(last), Some(Value::Array(found))) = (parts.next(), parts.next()) else {
            return Err(corrupt("scan reply"));
        };
        let last = String::from_utf8(bytes(last)?).map_err(|_| corrupt("scan reply"))?;
        let mut memories = Vec::with_capacity(found.len() / 2);
        let mut found = found.into_iter();
        while let (Some(id), Some(fields)) = (found.next(), found.next()) {
            let id = String::from_utf8(bytes(id)?).map_err(|_| corrupt("scanned id"))?;
            let id =
                memlane_core::parse_id(&id).map_err(|_| corrupt(format!("index entry {id:?}")))?;
            if let Some(fields) = pairs(fields)? {
                memories.push(decode(&scope.tenant, id, &fields)?);
            }
        }
        Ok(Scanned {
            last: (!last.is_empty()).then_some(last),
            memories,
        })
    }

    /// Walks `scope` newest first from `bound`, handing every live memory passing `filter` to `take` until it returns
    /// false or the index is exhausted. `want` is how many more memories the caller expects to take.
    async fn walk(
        &self,
        scope: &Scope,
        filter: Option<&Filter>,
        mut bound: String,
        want: usize,
        mut take: impl FnMut(Memory) -> bool,
    ) -> Result<()> {
        let keys = self.keys(&scope.tenant);
        let mut budget = (want.saturating_add(16)).clamp(MIN_BUDGET, MAX_BUDGET);
        loop {
            // Without a filter every memory the script returns is taken: ask for no more than wanted.
            let script_want = if filter.is_some() { budget } else { want };
            let scanned = self.scan(&keys, scope, &bound, budget, script_want).await?;
            let now = Timestamp::now();
            for m in scanned.memories {
                if m.is_expired(now) || !scope.matches(&m.scope) {
                    continue;
                }
                if filter.is_none_or(|f| f.matches(&m)) && !take(m) {
                    return Ok(());
                }
            }
            match scanned.last {
                None => return Ok(()),
                Some(last) => bound = format!("({last}"),
            }
            budget = (budget * 2).min(MAX_BUDGET);
        }
    }

    /// A page of a listing, newest first.
    pub(crate) async fn list(&self, q: &ListQuery) -> Result<Page> {
        let bound = match q.cursor {
            Some(c) => format!("({}", member(c.created_at, c.id)),
            None => "+".to_owned(),
        };
        let want = q.limit.saturating_add(1);
        let mut found = Vec::with_capacity(want.min(1024));
        self.walk(&q.scope, q.filter.as_ref(), bound, want, |m| {
            found.push(m);
            found.len() < want
        })
        .await?;
        Ok(Page::from_overfetch(found, q.limit))
    }

    /// How many live memories of `scope` pass `filter`: the size of the scope's index when that is exact (no filter,
    /// at most one of user, agent and session), otherwise by walking the index.
    pub(crate) async fn count(&self, scope: &Scope, filter: Option<&Filter>) -> Result<u64> {
        let keys = self.keys(&scope.tenant);
        let candidates = keys.candidates(scope);
        if filter.is_none() && candidates.len() == 1 {
            loop {
                let mut inv = self.scripts.count.prepare_invoke();
                inv.key(&candidates[0])
                    .arg(keys.memory_prefix())
                    .arg(keys.expiry())
                    .arg(keys.footprints());
                let mut conn = self.conn.clone();
                let n: i64 = inv.invoke_async(&mut conn).await.map_err(map)?;
                if let Ok(n) = u64::try_from(n) {
                    return Ok(n);
                }
            }
        }
        let mut n = 0;
        self.walk(scope, filter, "+".to_owned(), usize::MAX, |_| {
            n += 1;
            true
        })
        .await?;
        Ok(n)
    }
}
