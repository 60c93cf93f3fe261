//! Per-scope counts and order-independent checksums of a store's contents, and the drift between two of them.
//!
//! A migration, a repair of a composite store or a backup check asks one question: do these two stores hold the
//! same memories? [`checksum`] reads a tenant (or a scope of it, or the memories passing a filter) through the
//! [`MemoryStore`] trait and sums, per scope (`user`, `agent`, `session`), one digest per memory; [`diff`]
//! compares two results and lists the scopes that differ ([`Drift`]).
//!
//! The digest of a memory covers its id, content hash, kind, scope (without the tenant, so that a copy into
//! another tenant compares equal), expiry, version and metadata, and not its embedding (which may be
//! recomputed) nor its timestamps. The sums are order-independent (addition modulo 2^128), so two stores that
//! list in different orders agree. The exact definition is in `docs/format.md`.
//!
//! ```
//! use memlane_core::checksum::{diff, Checksums};
//! use memlane_core::{NewMemory, Scope, Timestamp};
//! let alice = Scope::tenant("acme").with_user("alice");
//! let a = NewMemory::new(alice.clone(), "tea").into_memory(Timestamp::from_millis(1));
//! let b = NewMemory::new(alice, "coffee").into_memory(Timestamp::from_millis(2));
//! let mut left = Checksums::new("acme");
//! left.add(&a);
//! left.add(&b);
//! let mut right = Checksums::new("acme");
//! right.add(&b);
//! right.add(&a);
//! assert_eq!(left, right);
//! assert!(diff(&left, &right).is_empty());
//! right.add(&a); // a duplicate is drift
//! assert_eq!(diff(&left, &right).scopes.len(), 1);
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Filter, ListQuery, Memory, MemoryStore, Result, Scope, Timestamp};

/// The version tag hashed into every memory digest; bumped if the definition ever changes.
pub const CHECKSUM_VERSION: &str = "memlane-checksum-v1";

/// An order-independent checksum: the sum, modulo 2^128, of memory digests. Shown as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Checksum(pub u128);

impl Checksum {
    /// Adds a digest.
    pub fn add(&mut self, other: Checksum) {
        self.0 = self.0.wrapping_add(other.0);
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl Serialize for Checksum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Checksum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        u128::from_str_radix(&s, 16)
            .map(Checksum)
            .map_err(|_| serde::de::Error::custom("a checksum is 32 hex digits"))
    }
}

/// The scope of a memory within its tenant: the key of a per-scope checksum.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct SubScope {
    /// The user, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The agent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The session, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

impl SubScope {
    /// The sub-scope of a memory's scope.
    pub fn of(scope: &Scope) -> Self {
        SubScope {
            user: scope.user.clone(),
            agent: scope.agent.clone(),
            session: scope.session.clone(),
        }
    }

    /// The full scope in `tenant`.
    pub fn in_tenant(&self, tenant: &str) -> Scope {
        Scope {
            tenant: tenant.to_owned(),
            user: self.user.clone(),
            agent: self.agent.clone(),
            session: self.session.clone(),
        }
    }
}

impl fmt::Display for SubScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        write!(
            f,
            "user={} agent={} session={}",
            show(&self.user),
            show(&self.agent),
            show(&self.session)
        )
    }
}

/// The count and checksum of the memories of one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScopeSum {
    /// How many memories.
    pub count: u64,
    /// The sum of their digests.
    pub checksum: Checksum,
}

impl ScopeSum {
    fn add(&mut self, other: ScopeSum) {
        self.count += other.count;
        self.checksum.add(other.checksum);
    }
}

impl fmt::Display for ScopeSum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} memories, checksum {}", self.count, self.checksum)
    }
}

/// The per-scope counts and checksums of one tenant's memories (or a part of them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "ChecksumsJson", from = "ChecksumsJson")]
pub struct Checksums {
    /// The tenant they were computed in (not part of any digest).
    pub tenant: String,
    /// Per scope.
    pub scopes: BTreeMap<SubScope, ScopeSum>,
}

/// The JSON form: `{"tenant", "count", "checksum", "scopes": [{"scope", "count", "checksum"}]}`.
#[derive(Serialize, Deserialize)]
struct ChecksumsJson {
    tenant: String,
    count: u64,
    checksum: Checksum,
    scopes: Vec<ScopeJson>,
}

#[derive(Serialize, Deserialize)]
struct ScopeJson {
    scope: SubScope,
    count: u64,
    checksum: Checksum,
}

impl From<Checksums> for ChecksumsJson {
    fn from(c: Checksums) -> Self {
        let total = c.total();
        ChecksumsJson {
            tenant: c.tenant,
            count: total.count,
            checksum: total.checksum,
            scopes: c
                .scopes
                .into_iter()
                .map(|(scope, s)| ScopeJson {
                    scope,
                    count: s.count,
                    checksum: s.checksum,
                })
                .collect(),
        }
    }
}

impl From<ChecksumsJson> for Checksums {
    fn from(j: ChecksumsJson) -> Self {
        Checksums {
            tenant: j.tenant,
            scopes: j
                .scopes
                .into_iter()
                .map(|s| {
                    (
                        s.scope,
                        ScopeSum {
                            count: s.count,
                            checksum: s.checksum,
                        },
                    )
                })
                .collect(),
        }
    }
}

impl Checksums {
    /// Empty checksums of `tenant`.
    pub fn new(tenant: impl Into<String>) -> Self {
        Checksums {
            tenant: tenant.into(),
            scopes: BTreeMap::new(),
        }
    }

    /// Counts one memory in its scope.
    pub fn add(&mut self, m: &Memory) {
        let entry = self.scopes.entry(SubScope::of(&m.scope)).or_default();
        entry.add(ScopeSum {
            count: 1,
            checksum: memory_digest(m),
        });
    }

    /// Adds every scope of `other` (computed over disjoint memories, e.g. another batch) into this one.
    pub fn merge(&mut self, other: &Checksums) {
        for (scope, sum) in &other.scopes {
            self.scopes.entry(scope.clone()).or_default().add(*sum);
        }
    }

    /// The count and checksum over every scope.
    pub fn total(&self) -> ScopeSum {
        let mut total = ScopeSum::default();
        for s in self.scopes.values() {
            total.add(*s);
        }
        total
    }
}

impl fmt::Display for Checksums {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "tenant {}: {}", self.tenant, self.total())?;
        for (scope, sum) in &self.scopes {
            writeln!(f, "  {scope}: {sum}")?;
        }
        Ok(())
    }
}

/// The digest of one memory (see the module docs and `docs/format.md`): the first 16 bytes of a sha256, big-endian.
pub fn memory_digest(m: &Memory) -> Checksum {
    let mut h = Sha256::new();
    h.update(CHECKSUM_VERSION.as_bytes());
    let mut field = |v: Option<&[u8]>| match v {
        Some(bytes) => {
            h.update([1u8]);
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
        None => h.update([0u8]),
    };
    field(Some(m.id.hyphenated().to_string().as_bytes()));
    field(Some(m.content_hash.as_bytes()));
    field(Some(m.kind.as_str().as_bytes()));
    field(m.scope.user.as_deref().map(str::as_bytes));
    field(m.scope.agent.as_deref().map(str::as_bytes));
    field(m.scope.session.as_deref().map(str::as_bytes));
    let expires = m.expires_at.map(|t| t.as_millis().to_string());
    field(expires.as_deref().map(str::as_bytes));
    field(Some(m.version.to_string().as_bytes()));
    let mut meta = String::new();
    canonical_object(&m.metadata, &mut meta);
    field(Some(meta.as_bytes()));
    let digest = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Checksum(u128::from_be_bytes(first))
}

/// Writes `v` as canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace, integral numbers
/// (including floats such as `1.0` within ±2^53) as integers.
pub fn canonical_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => canonical_number(n, out),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => canonical_object(map, out),
    }
}

fn canonical_object(map: &serde_json::Map<String, serde_json::Value>, out: &mut String) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(k.clone()).to_string());
        out.push(':');
        if let Some(v) = map.get(k) {
            canonical_json(v, out);
        }
    }
    out.push('}');
}

fn canonical_number(n: &serde_json::Number, out: &mut String) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.is_i64() || n.is_u64() {
        out.push_str(&n.to_string());
    } else if let Some(f) = n.as_f64() {
        if f.fract() == 0.0 && f.abs() <= EXACT {
            out.push_str(&format!("{}", f as i64));
        } else {
            out.push_str(&n.to_string());
        }
    } else {
        out.push_str(&n.to_string());
    }
}

/// What [`checksum`] reads.
#[derive(Debug, Clone, Default)]
pub struct ChecksumOptions {
    /// Only the memories passing this filter.
    pub filter: Option<Filter>,
    /// Leave out memories that expire at or before this time. Two stores read a few seconds apart disagree about
    /// memories expiring in between; a verification passes the same cut-off (a little after it ends) to both.
    pub expiring_after: Option<Timestamp>,
}

/// The per-scope counts and checksums of the memories in `scope` (a whole tenant with [`Scope::tenant`]) that pass
/// the options, read page by page through [`MemoryStore::list`].
pub async fn checksum(
    store: &dyn MemoryStore,
    scope: &Scope,
    opts: &ChecksumOptions,
) -> Result<Checksums> {
    let mut query = ListQuery::new(scope.clone()).limit(store.capabilities().limits.max_limit);
    query.filter = opts.filter.clone();
    let mut sums = Checksums::new(scope.tenant.clone());
    loop {
        let page = store.list(&query).await?;
        for m in &page.memories {
            if included(m, opts.expiring_after) {
                sums.add(m);
            }
        }
        match page.next {
            Some(c) => query.cursor = Some(c),
            None => return Ok(sums),
        }
    }
}

/// Whether a memory counts under the `expiring_after` cut-off of [`ChecksumOptions`].
pub fn included(m: &Memory, expiring_after: Option<Timestamp>) -> bool {
    match (m.expires_at, expiring_after) {
        (Some(e), Some(cut)) => e > cut,
        _ => true,
    }
}

/// The checksums of several tenants: each of `tenants`, or every tenant the store lists
/// ([`MemoryStore::tenants`]) when `tenants` is empty.
pub async fn checksum_tenants(
    store: &dyn MemoryStore,
    tenants: &[String],
    opts: &ChecksumOptions,
) -> Result<Vec<Checksums>> {
    let tenants = if tenants.is_empty() {
        store.tenants().await?
    } else {
        tenants.to_vec()
    };
    let mut out = Vec::with_capacity(tenants.len());
    for t in tenants {
        out.push(checksum(store, &Scope::tenant(t), opts).await?);
    }
    Ok(out)
}

/// One scope whose count or checksum differs between two sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDrift {
    /// The scope.
    pub scope: SubScope,
    /// The left side (zero when the scope is missing there).
    pub left: ScopeSum,
    /// The right side (zero when the scope is missing there).
    pub right: ScopeSum,
}

/// The drift between two [`Checksums`]: every scope that differs, in scope order. Empty when they agree.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Drift {
    /// The scopes that differ.
    pub scopes: Vec<ScopeDrift>,
}

impl Drift {
    /// Whether both sides agree.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scopes.is_empty() {
            return writeln!(f, "no drift");
        }
        for d in &self.scopes {
            writeln!(f, "{}: left {}; right {}", d.scope, d.left, d.right)?;
        }
        Ok(())
    }
}

/// The scopes whose counts or checksums differ between `left` and `right` (tenant names are not compared).
pub fn diff(left: &Checksums, right: &Checksums) -> Drift {
    let mut scopes = Vec::new();
    let keys: std::collections::BTreeSet<&SubScope> =
        left.scopes.keys().chain(right.scopes.keys()).collect();
    for k in keys {
        let l = left.scopes.get(k).copied().unwrap_or_default();
        let r = right.scopes.get(k).copied().unwrap_or_default();
        if l != r {
            scopes.push(ScopeDrift {
                scope: k.clone(),
                left: l,
                right: r,
            });
        }
    }
    Drift { scopes }
}

/// Checks that two lists of per-tenant checksums agree tenant by tenant: an error naming the first difference.
pub fn verify(left: &[Checksums], right: &[Checksums]) -> Result<()> {
    let mut l: BTreeMap<&str, &Checksums> = BTreeMap::new();
    for c in left {
        l.insert(&c.tenant, c);
    }
    let mut r: BTreeMap<&str, &Checksums> = BTreeMap::new();
    for c in right {
        r.insert(&c.tenant, c);
    }
    let empty = Checksums::default();
    let tenants: std::collections::BTreeSet<&str> = l.keys().chain(r.keys()).copied().collect();
    for t in tenants {
        let a = l.get(t).copied().unwrap_or(&empty);
        let b = r.get(t).copied().unwrap_or(&empty);
        let d = diff(a, b);
        if !d.is_empty() {
            return Err(Error::conflict(
                "checksum",
                format!("tenant {t} differs: {}", d.to_string().trim_end()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kind, NewMemory};
    use serde_json::json;

    fn mem(content: &str) -> Memory {
        NewMemory::new(Scope::tenant("t").with_user("u"), content)
            .meta("a", json!({"z": 1, "b": [1.0, "x"]}))
            .into_memory(Timestamp::from_millis(10))
    }

    #[test]
    fn each_covered_field_changes_the_digest() {
        let m = mem("hello");
        let base = memory_digest(&m);
        let mut changes: Vec<Memory> = Vec::new();
        let mut c = m.clone();
        c.id = crate::new_id();
        changes.push(c);
        let mut c = m.clone();
        c.content_hash = crate::content_hash("other");
        changes.push(c);
        let mut c = m.clone();
        c.kind = Kind::Episode;
        changes.push(c);
        let mut c = m.clone();
        c.scope.agent = Some("a".into());
        changes.push(c);
        let mut c = m.clone();
        c.expires_at = Some(Timestamp::from_millis(99));
        changes.push(c);
        let mut c = m.clone();
        c.version = 2;
        changes.push(c);
        let mut c = m.clone();
        c.metadata.insert("k".into(), json!(1));
        changes.push(c);
        for c in changes {
            assert_ne!(memory_digest(&c), base, "{c:?}");
        }
        // Not covered: the tenant, timestamps, the embedding.
        let mut c = m.clone();
        c.scope.tenant = "other".into();
        c.updated_at = Timestamp::from_millis(77);
        c.embedding = Some(crate::Embedding {
            model: "x".into(),
            vector: vec![1.0],
        });
        assert_eq!(memory_digest(&c), base);
    }

    #[test]
    fn user_and_agent_are_not_confused() {
        let mut a = mem("x");
        a.scope.user = None;
        a.scope.agent = Some("u".into());
        let b = mem("x");
        let mut a2 = a.clone();
        a2.id = b.id;
        assert_ne!(memory_digest(&a2), memory_digest(&b));
    }

    #[test]
    fn canonical_json_sorts_keys_and_normalizes_integral_floats() {
        let mut a = String::new();
        canonical_json(
            &json!({"b": 1.0, "a": [2, {"d": null, "c": "é\""}]}),
            &mut a,
        );
        assert_eq!(a, r#"{"a":[2,{"c":"é\"","d":null}],"b":1}"#);
        let mut f = String::new();
        canonical_json(&json!(0.5), &mut f);
        assert_eq!(f, "0.5");
    }

    #[test]
    fn diff_lists_missing_and_changed_scopes_and_json_round_trips() {
        let mut left = Checksums::new("t");
        let mut right = Checksums::new("t2");
        let m = mem("a");
        left.add(&m);
        right.add(&m);
        assert!(diff(&left, &right).is_empty());
        let mut other = mem("b");
        other.scope.session = Some("s".into());
        left.add(&other);
        let d = diff(&left, &right);
        assert_eq!(d.scopes.len(), 1);
        assert_eq!(d.scopes[0].right.count, 0);
        assert!(d.to_string().contains("session=s"));
        let text = serde_json::to_string(&left).unwrap_or_default();
        let back: Checksums = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, left);
        assert!(verify(&[left.clone()], &[left.clone()]).is_ok());
        assert!(verify(&[left], &[right]).is_err());
    }

    #[test]
    fn the_expiry_cut_off_excludes_memories_expiring_before_it() {
        let mut m = mem("a");
        m.expires_at = Some(Timestamp::from_millis(100));
        assert!(included(&m, None));
        assert!(included(&m, Some(Timestamp::from_millis(99))));
        assert!(!included(&m, Some(Timestamp::from_millis(100))));
    }
}
