//! Purging expired memories: Redis expires a memory's hash by itself (`PEXPIREAT`); this removes its index entries.
//!
//! Expired memories are never returned whatever the purge: reads skip index entries whose hash is gone or expired.
//! Their index entries are removed by the tenant's purge, which runs
//! - lazily, at the start of every `add`, `list`, `count` and `forget` of the tenant (up to 100 to 1000 entries,
//!   in the same script),
//! - for every tenant in the registry `{PREFIX}:expiring`, by [`MemoryStore::purge_expired`] and by the store's
//!   background task every `purge_interval` (default 10 s).
//!
//! So the entries of a memory are gone at most `purge_interval` (plus the time one purge takes) after it expired.
//!
//! The registry lists the tenants that may have expiring memories. A tenant is added before (standalone: in the
//! same script as) its first expiring memory is written, and removed by a purge that left none; the purge re-checks
//! after removing it, and a write that made a tenant's first expiring memory adds it again after the script, so a
//! purge racing with a write never loses a tenant.
//!
//! [`MemoryStore::purge_expired`]: memlane_core::MemoryStore::purge_expired

use std::sync::Weak;
use std::time::{Duration, Instant};

use memlane_core::Result;
use redis::Value;

use super::error::{corrupt, map, NAME};
use super::keys::registry;
use super::Inner;

/// How many expired memories one purge script call deletes at most.
const PURGE_BATCH: usize = 500;

fn ints(v: Value) -> Result<Vec<i64>> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::Int(i) => Ok(i),
                other => Err(corrupt(format!("purge reply {other:?}"))),
            })
            .collect(),
        other => Err(corrupt(format!("purge reply {other:?}"))),
    }
}

impl Inner {
    /// Purges one tenant until nothing expired is left; returns how many were purged and how many expiring
    /// memories remain.
    async fn purge_tenant(&self, tenant: &str) -> Result<(u64, u64)> {
        let keys = self.keys(tenant);
        let mut total = 0;
        loop {
            let mut inv = self.scripts.purge.prepare_invoke();
            inv.key(keys.expiry())
                .arg(keys.memory_prefix())
                .arg(keys.footprints())
                .arg(PURGE_BATCH);
            let mut conn = self.conn.clone();
            let reply = ints(inv.invoke_async(&mut conn).await.map_err(map)?)?;
            let [n, more, left] = reply[..] else {
                return Err(corrupt("purge reply"));
            };
            total += u64::try_from(n).unwrap_or(0);
            if more == 0 {
                return Ok((total, u64::try_from(left).unwrap_or(0)));
            }
        }
    }

    /// Purges every tenant in the registry, for at most `budget`; returns how many memories were purged.
    pub(crate) async fn purge_expired(&self, budget: Duration) -> Result<u64> {
        let start = Instant::now();
        let reg = registry(&self.config.prefix);
        let mut cursor: u64 = 0;
        let mut total = 0;
        loop {
            let mut conn = self.conn.clone();
            let (next, tenants): (u64, Vec<String>) = redis::cmd("SSCAN")
                .arg(&reg)
                .arg(cursor)
                .arg("COUNT")
                .arg(100)
                .query_async(&mut conn)
                .await
                .map_err(map)?;
            for t in tenants {
                let (n, left) = self.purge_tenant(&t).await?;
                total += n;
                if left == 0 {
                    self.unregister(&reg, &t).await?;
                }
                if start.elapsed() >= budget {
                    return Ok(total);
                }
            }
            if next == 0 {
                return Ok(total);
            }
            cursor = next;
        }
    }

    /// Removes a tenant without expiring memories from the registry, then adds it back if one appeared meanwhile.
    async fn unregister(&self, reg: &str, tenant: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("SREM")
            .arg(reg)
            .arg(tenant)
            .query_async::<()>(&mut conn)
            .await
            .map_err(map)?;
        let left: u64 = redis::cmd("ZCARD")
            .arg(self.keys(tenant).expiry())
            .query_async(&mut conn)
            .await
            .map_err(map)?;
        if left > 0 {
            self.register(&[tenant.to_owned()]).await?;
        }
        Ok(())
    }
}

/// Purges every `every` until the store is dropped.
pub(crate) async fn purge_loop(inner: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        // A generous bound: the loop stops early after `every`, each request is bounded by the timeout.
        match inner.purge_expired(every).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(backend = NAME, purged = n, "purged expired memories"),
            Err(e) => tracing::warn!(backend = NAME, error = %e, "purging expired memories failed"),
        }
    }
}
