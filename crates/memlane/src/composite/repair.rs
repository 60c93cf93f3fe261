//! Repair: compares each tier with the record of truth (per-scope counts and checksums, see
//! [`memlane_core::checksum`]) and, when asked, fixes the drift from the record: what the tier lacks or holds in
//! another state is written again, what the record does not hold is deleted.

use std::collections::HashMap;
use std::time::Duration;

use memlane_core::checksum::{checksum, diff, ChecksumOptions, Drift, SubScope};
use memlane_core::{MemoryStore, MemoryStoreExt, Result, Scope, Timestamp};
use serde::Serialize;

use super::replicate::upsert;
use super::CompositeStore;

/// The drift of one tier in one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct TierDrift {
    /// The tier.
    pub tier: String,
    /// The tenant.
    pub tenant: String,
    /// The scopes that differ from the record of truth (before fixing).
    pub drift: Drift,
    /// Memories written again or deleted to fix it (0 without `fix`).
    pub fixed: u64,
}

/// What [`CompositeStore::repair`] found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepairReport {
    /// The tenants compared.
    pub tenants: Vec<String>,
    /// The tiers compared (the ones that are open).
    pub tiers: Vec<String>,
    /// Every tier and tenant that drifted.
    pub drifts: Vec<TierDrift>,
}

impl RepairReport {
    /// Whether every tier agreed with the record of truth.
    pub fn is_clean(&self) -> bool {
        self.drifts.is_empty()
    }
}

/// Memories expiring within this margin are left out of the comparison: the two sides are read moments apart.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5);

impl CompositeStore {
    /// Compares every open tier with the record of truth in `tenants` (every tenant of the record when empty),
    /// after replaying the outbox; with `fix`, rewrites each drifted scope of a tier from the record.
    pub async fn repair(&self, tenants: &[String], fix: bool) -> Result<RepairReport> {
        self.catch_up().await;
        let record = self.inner.record_store.clone();
        let tenants = if tenants.is_empty() {
            record.tenants().await?
        } else {
            tenants.to_vec()
        };
        let mut report = RepairReport {
            tenants: tenants.clone(),
            ..RepairReport::default()
        };
        for t in &self.inner.replicas {
            let Some(store) = t.store() else { continue };
            report.tiers.push(t.name.clone());
            for tenant in &tenants {
                let opts = ChecksumOptions {
                    filter: None,
                    expiring_after: Some(Timestamp::now().plus(EXPIRY_MARGIN)),
                };
                let scope = Scope::tenant(tenant.clone());
                let want = checksum(&*record, &scope, &opts).await?;
                let have = checksum(&*store, &scope, &opts).await?;
                let drift = diff(&want, &have);
                if drift.is_empty() {
                    continue;
                }
                let mut fixed = 0;
                if fix {
                    for d in &drift.scopes {
                        fixed += fix_scope(&*record, &*store, tenant, &d.scope).await?;
                    }
                }
                report.drifts.push(TierDrift {
                    tier: t.name.clone(),
                    tenant: tenant.clone(),
                    drift,
                    fixed,
                });
            }
        }
        Ok(report)
    }
}

/// Makes `tier` hold exactly what `record` holds in one exact scope; returns how many memories it rewrote or
/// deleted.
async fn fix_scope(
    record: &dyn MemoryStore,
    tier: &dyn MemoryStore,
    tenant: &str,
    sub: &SubScope,
) -> Result<u64> {
    let scope = sub.in_tenant(tenant);
    let exact = |s: &Scope| SubScope::of(s) == *sub;
    let want: HashMap<_, _> = record
        .list_all(&scope, None)
        .await?
        .into_iter()
        .filter(|m| exact(&m.scope))
        .map(|m| (m.id, m))
        .collect();
    let have: HashMap<_, _> = tier
        .list_all(&scope, None)
        .await?
        .into_iter()
        .filter(|m| exact(&m.scope))
        .map(|m| (m.id, m))
        .collect();
    let mut n = 0;
    for (id, m) in &want {
        if have.get(id) != Some(m) {
            upsert(tier, m).await?;
            n += 1;
        }
    }
    for id in have.keys().filter(|id| !want.contains_key(id)) {
        match tier.delete(tenant, *id).await {
            Ok(()) => n += 1,
            Err(e) if e.kind() == memlane_core::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
