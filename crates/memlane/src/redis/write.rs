//! Writes: each one Lua script (see [`super::scripts`]), so that a memory and its indexes change together.
//!
//! `update` is optimistic: it reads the memory, computes the new state with [`Update::apply`], and the script writes
//! it only if the version is still the one read (otherwise it is a conflict when the caller expected a version, and
//! a retry when not).

use std::collections::BTreeSet;

use memlane_core::{Added, Error, Memory, MemoryId, NewMemory, Result, Scope, Timestamp, Update};
use redis::Value;

use super::error::{corrupt, map, NAME};
use super::keys::registry;
use super::record::{absent, bytes, decode, encode, pairs};
use super::Inner;

/// How often `update` re-reads a memory that changed under it before giving up (as `unavailable`).
const MAX_ATTEMPTS: usize = 32;
/// How many index entries one forget script call examines.
const FORGET_BUDGET: usize = 500;

fn text(v: Value) -> Result<String> {
    String::from_utf8(bytes(v)?).map_err(|_| corrupt("a script reply"))
}

fn int(v: &Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(corrupt(format!("expected an integer, got {other:?}"))),
    }
}

fn array(v: Value) -> Result<Vec<Value>> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(corrupt(format!("expected an array, got {other:?}"))),
    }
}

impl Inner {
    /// The registry key, or empty on a cluster (where the scripts cannot reach it: another slot).
    fn registry_arg(&self) -> String {
        if self.conn.is_cluster() {
            String::new()
        } else {
            registry(&self.config.prefix)
        }
    }

    /// Records tenants in the registry of expiring memories (on a cluster, where scripts cannot).
    pub(crate) async fn register(&self, tenants: &[String]) -> Result<()> {
        if tenants.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        redis::cmd("SADD")
            .arg(registry(&self.config.prefix))
            .arg(tenants)
            .query_async::<()>(&mut conn)
            .await
            .map_err(map)
    }

    /// Adds a validated batch, all or nothing.
    pub(crate) async fn add(
        &self,
        batch: Vec<NewMemory>,
        dedup: bool,
        now: Timestamp,
    ) -> Result<Vec<Added>> {
        let memories: Vec<Memory> = batch.into_iter().map(|n| n.into_memory(now)).collect();
        let tenants: BTreeSet<&str> = memories.iter().map(|m| m.scope.tenant.as_str()).collect();
        let cluster = self.conn.is_cluster();
        if cluster && tenants.len() > 1 {
            return Err(Error::invalid(
                "memories",
                "on Redis Cluster a batch is of one tenant (a batch is atomic only within one slot)",
            ));
        }
        let expiring: Vec<String> = tenants
            .iter()
            .filter(|t| {
                memories
                    .iter()
                    .any(|m| m.scope.tenant == **t && m.expires_at.is_some())
            })
            .map(|t| (*t).to_owned())
            .collect();
        if cluster {
            self.register(&expiring).await?;
        }

        let mut inv = self.scripts.add.prepare_invoke();
        for t in &tenants {
            inv.key(self.keys(t).all());
        }
        inv.arg(if dedup { "1" } else { "0" })
            .arg(self.registry_arg())
            .arg(memories.len());
        for m in &memories {
            let keys = self.keys(&m.scope.tenant);
            let fields = encode(m, &keys);
            inv.arg(&m.scope.tenant)
                .arg(keys.memory(m.id))
                .arg(keys.memory_prefix())
                .arg(m.id.to_string())
                .arg(keys.expiry())
                .arg(keys.footprints())
                .arg(keys.dedup(&m.scope))
                .arg(&m.content_hash)
                .arg(
                    m.expires_at
                        .map(|e| e.as_millis().to_string())
                        .unwrap_or_default(),
                )
                .arg(keys.footprint(m))
                .arg(fields.len() * 2);
            for (name, value) in fields {
                inv.arg(name).arg(value);
            }
        }
        let mut conn = self.conn.clone();
        let reply: Value = inv.invoke_async(&mut conn).await.map_err(map)?;
        let mut parts = array(reply)?.into_iter();
        let status = text(parts.next().ok_or_else(|| corrupt("add reply"))?)?;
        if status == "conflict" {
            let i = int(&parts.next().ok_or_else(|| corrupt("add reply"))?)?;
            let id = usize::try_from(i - 1)
                .ok()
                .and_then(|i| memories.get(i))
                .map(|m| m.id.to_string())
                .unwrap_or_default();
            return Err(Error::conflict(
                NAME,
                format!("memory {id} exists with other content or scope"),
            ));
        }
        let (Some(results), Some(firsts)) = (parts.next(), parts.next()) else {
            return Err(corrupt("add reply"));
        };
        if cluster {
            let firsts = array(firsts)?
                .into_iter()
                .map(text)
                .collect::<Result<Vec<_>>>()?;
            self.register(&firsts).await?;
        }
        let results = array(results)?;
        if results.len() != memories.len() {
            return Err(corrupt("add reply: one result per memory"));
        }
        let mut out = Vec::with_capacity(memories.len());
        for (m, r) in memories.iter().zip(results) {
            let mut r = array(r)?.into_iter();
            let kind = text(r.next().ok_or_else(|| corrupt("add result"))?)?;
            let added = match kind.as_str() {
                "created" => Added {
                    memory: m.clone(),
                    created: true,
                },
                "same" => {
                    let j = int(&r.next().ok_or_else(|| corrupt("add result"))?)?;
                    let same = usize::try_from(j - 1)
                        .ok()
                        .and_then(|j| memories.get(j))
                        .ok_or_else(|| corrupt("add result index"))?;
                    Added {
                        memory: same.clone(),
                        created: false,
                    }
                }
                "existing" => {
                    let (Some(id), Some(fields)) = (r.next(), r.next()) else {
                        return Err(corrupt("add result"));
                    };
                    let id =
                        memlane_core::parse_id(&text(id)?).map_err(|_| corrupt("add result id"))?;
                    let fields = pairs(fields)?.ok_or_else(|| corrupt("add result fields"))?;
                    Added {
                        memory: decode(&m.scope.tenant, id, &fields)?,
                        created: false,
                    }
                }
                other => return Err(corrupt(format!("add result {other:?}"))),
            };
            out.push(added);
        }
        Ok(out)
    }

    /// Applies a validated update, checking the version inside the script.
    pub(crate) async fn update(&self, tenant: &str, id: MemoryId, u: &Update) -> Result<Memory> {
        let keys = self.keys(tenant);
        let not_found = || Error::not_found(NAME, format!("memory {id}"));
        let cluster = self.conn.is_cluster();
        for _ in 0..MAX_ATTEMPTS {
            let old = self.get_one(tenant, id).await?.ok_or_else(not_found)?;
            if let Some(v) = u.expected_version {
                if v != old.version {
                    return Err(Error::version_mismatch(NAME, v, old.version));
                }
            }
            let next = u.apply(&old, Timestamp::now());
            if cluster && next.expires_at.is_some() && old.expires_at.is_none() {
                self.register(&[tenant.to_owned()]).await?;
            }
            let dels = absent(&next);
            let sets = encode(&next, &keys);
            let mut inv = self.scripts.update.prepare_invoke();
            inv.key(keys.memory(id))
                .arg(old.version.to_string())
                .arg(id.to_string())
                .arg(keys.expiry())
                .arg(keys.footprints())
                .arg(self.registry_arg())
                .arg(tenant)
                .arg(
                    next.expires_at
                        .map(|e| e.as_millis().to_string())
                        .unwrap_or_default(),
                )
                .arg(keys.footprint(&next))
                .arg(dels.len());
            for d in &dels {
                inv.arg(*d);
            }
            inv.arg(sets.len() * 2);
            for (name, value) in sets {
                inv.arg(name).arg(value);
            }
            let mut conn = self.conn.clone();
            let reply: Value = inv.invoke_async(&mut conn).await.map_err(map)?;
            let mut parts = array(reply)?.into_iter();
            let status = text(parts.next().ok_or_else(|| corrupt("update reply"))?)?;
            match status.as_str() {
                "ok" => {
                    let first = parts.next().map(|v| int(&v)).transpose()?.unwrap_or(0);
                    if cluster && first == 1 {
                        self.register(&[tenant.to_owned()]).await?;
                    }
                    return Ok(next);
                }
                "missing" => return Err(not_found()),
                "version" => {
                    if let Some(v) = u.expected_version {
                        let current = parts
                            .next()
                            .map(text)
                            .transpose()?
                            .and_then(|c| c.parse().ok())
                            .ok_or_else(|| corrupt("update reply version"))?;
                        return Err(Error::version_mismatch(NAME, v, current));
                    }
                }
                other => return Err(corrupt(format!("update reply {other:?}"))),
            }
        }
        Err(Error::unavailable(
            NAME,
            format!("memory {id} kept changing during the update; try again"),
            None,
        ))
    }

    /// Deletes one live memory.
    pub(crate) async fn delete(&self, tenant: &str, id: MemoryId) -> Result<()> {
        let keys = self.keys(tenant);
        let mut inv = self.scripts.delete.prepare_invoke();
        inv.key(keys.memory(id))
            .arg(id.to_string())
            .arg(keys.expiry())
            .arg(keys.footprints());
        let mut conn = self.conn.clone();
        let n: i64 = inv.invoke_async(&mut conn).await.map_err(map)?;
        if n == 0 {
            return Err(Error::not_found(NAME, format!("memory {id}")));
        }
        Ok(())
    }

    /// Deletes every memory of a scope, a chunk at a time; returns how many live ones.
    pub(crate) async fn forget(&self, scope: &Scope) -> Result<u64> {
        let keys = self.keys(&scope.tenant);
        let mut bound = "+".to_owned();
        let mut total = 0u64;
        loop {
            let mut inv = self.scripts.forget.prepare_invoke();
            for k in keys.candidates(scope) {
                inv.key(k);
            }
            inv.arg(keys.memory_prefix())
                .arg(keys.expiry())
                .arg(keys.footprints())
                .arg(&bound)
                .arg(FORGET_BUDGET)
                .arg(scope.user.as_deref().unwrap_or(""))
                .arg(scope.agent.as_deref().unwrap_or(""))
                .arg(scope.session.as_deref().unwrap_or(""));
            let mut conn = self.conn.clone();
            let reply: Value = inv.invoke_async(&mut conn).await.map_err(map)?;
            let mut parts = array(reply)?.into_iter();
            let (Some(n), Some(last)) = (parts.next(), parts.next()) else {
                return Err(corrupt("forget reply"));
            };
            total += u64::try_from(int(&n)?).unwrap_or(0);
            let last = text(last)?;
            if last.is_empty() {
                return Ok(total);
            }
            bound = format!("({last}");
        }
    }
}
