//! The key layout (documented in `docs/backends/redis.md`).
//!
//! Every key of one tenant starts with the same hash tag, `{PREFIX:TENANT}`, so that all of them live in one
//! Redis Cluster slot: one Lua script can then change a memory and every index that names it atomically, on a
//! standalone server and on a cluster alike. With `T` = `{PREFIX:TENANT}`:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `T:m:ID` | hash | one memory (fields in [`super::record`]); `PEXPIREAT` at its `expires_at` |
//! | `T:i` | sorted set | every memory of the tenant, as an index member (below) |
//! | `T:u:USER`, `T:a:AGENT`, `T:s:SESSION` | sorted set | the memories of one user, agent or session |
//! | `T:d:U:A:S` | sorted set | dedup index of one exact scope: `CONTENT_HASH:ID` members |
//! | `T:x` | sorted set | the memories that expire: member `ID`, score `expires_at` in ms |
//! | `T:f` | hash | `ID` → footprint, for memories that expire (what to unindex once the hash is gone) |
//! | `{PREFIX}:expiring` | set | the tenants that have (or had) memories that expire, for `purge_expired` |
//!
//! Index members are `HEX16:ID`, where `HEX16` is `created_at` in ms as 16 lowercase hex digits (with the sign bit
//! flipped, so that the order of the text is the order of the time) and `ID` the hyphenated lowercase UUID. All
//! members of an index have score 0, so the index is ordered by the text of its members: newest first is
//! `ZREVRANGEBYLEX`, and a cursor is an exclusive lexicographic bound. The dedup members `HASH:ID` let
//! `ZRANGEBYLEX` find a content's copies.
//!
//! Names (tenant, user, agent, session) are escaped: ASCII letters, digits and `-._~` stay, every other byte is
//! `%XX`. So a name can never close the hash tag or fake a separator, and keys are printable ASCII. In `T:d:U:A:S`
//! an absent field is `!` (which escaping never produces).

use memlane_core::{Memory, MemoryId, Scope, Timestamp};

/// Escapes a name for use inside a key.
pub(crate) fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn escape_opt(name: &Option<String>) -> String {
    name.as_deref()
        .map(escape)
        .unwrap_or_else(|| "!".to_owned())
}

/// Whether `prefix` is a valid key prefix: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
pub(crate) fn valid_prefix(prefix: &str) -> bool {
    (1..=64).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The set of tenants whose memories may expire.
pub(crate) fn registry(prefix: &str) -> String {
    format!("{{{prefix}}}:expiring")
}

/// The keys of one tenant.
#[derive(Debug, Clone)]
pub(crate) struct TenantKeys {
    tag: String,
}

impl TenantKeys {
    /// The keys of `tenant` under `prefix`.
    pub(crate) fn new(prefix: &str, tenant: &str) -> Self {
        TenantKeys {
            tag: format!("{{{prefix}:{}}}", escape(tenant)),
        }
    }

    /// The hash of one memory.
    pub(crate) fn memory(&self, id: MemoryId) -> String {
        format!("{}:m:{id}", self.tag)
    }

    /// What precedes the id in [`TenantKeys::memory`] (scripts append ids taken from index members).
    pub(crate) fn memory_prefix(&self) -> String {
        format!("{}:m:", self.tag)
    }

    /// The index of every memory of the tenant.
    pub(crate) fn all(&self) -> String {
        format!("{}:i", self.tag)
    }

    fn user(&self, user: &str) -> String {
        format!("{}:u:{}", self.tag, escape(user))
    }

    fn agent(&self, agent: &str) -> String {
        format!("{}:a:{}", self.tag, escape(agent))
    }

    fn session(&self, session: &str) -> String {
        format!("{}:s:{}", self.tag, escape(session))
    }

    /// The dedup index of one exact scope; also the scope's identity stored in each memory (field `scope`).
    pub(crate) fn dedup(&self, scope: &Scope) -> String {
        format!(
            "{}:d:{}:{}:{}",
            self.tag,
            escape_opt(&scope.user),
            escape_opt(&scope.agent),
            escape_opt(&scope.session)
        )
    }

    /// The expiry index.
    pub(crate) fn expiry(&self) -> String {
        format!("{}:x", self.tag)
    }

    /// The footprints of memories that expire.
    pub(crate) fn footprints(&self) -> String {
        format!("{}:f", self.tag)
    }

    /// The indexes a memory of (exact) scope `scope` is listed in: the tenant's, then its user's, agent's and
    /// session's.
    pub(crate) fn indexes_of(&self, scope: &Scope) -> Vec<String> {
        let mut v = vec![self.all()];
        v.extend(scope.user.as_deref().map(|u| self.user(u)));
        v.extend(scope.agent.as_deref().map(|a| self.agent(a)));
        v.extend(scope.session.as_deref().map(|s| self.session(s)));
        v
    }

    /// The indexes that hold every memory a query `scope` matches: one per field it gives (the smallest is scanned),
    /// or the tenant's when it gives none.
    pub(crate) fn candidates(&self, scope: &Scope) -> Vec<String> {
        let v = self.indexes_of(scope);
        if v.len() > 1 {
            v[1..].to_vec()
        } else {
            v
        }
    }

    /// The footprint of a memory: every `(sorted set, member)` naming it, one per line (key, member, key, member,
    /// ...), so that a script can unindex it even after Redis has expired its hash.
    pub(crate) fn footprint(&self, m: &Memory) -> String {
        let member = member(m.created_at, m.id);
        let mut out = String::new();
        for key in self.indexes_of(&m.scope) {
            out.push_str(&key);
            out.push('\n');
            out.push_str(&member);
            out.push('\n');
        }
        out.push_str(&self.dedup(&m.scope));
        out.push('\n');
        out.push_str(&dedup_member(&m.content_hash, m.id));
        out
    }
}

/// The index member of a memory: `HEX16:ID`, ordered like `(created_at, id)`.
pub(crate) fn member(created_at: Timestamp, id: MemoryId) -> String {
    let biased = (created_at.as_millis() as u64) ^ (1 << 63);
    format!("{biased:016x}:{id}")
}

/// The dedup member of a memory: `CONTENT_HASH:ID`.
pub(crate) fn dedup_member(content_hash: &str, id: MemoryId) -> String {
    format!("{content_hash}:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_tags_closed() {
        assert_eq!(escape("acme"), "acme");
        assert_eq!(escape("a}b{c:d e"), "a%7Db%7Bc%3Ad%20e");
        assert_eq!(escape("Zoë"), "Zo%C3%AB");
        assert_eq!(escape("!"), "%21");
        let k = TenantKeys::new("memlane", "x}y");
        assert_eq!(k.all(), "{memlane:x%7Dy}:i");
    }

    #[test]
    fn members_sort_like_time_then_id() {
        let a = memlane_core::new_id();
        let b = memlane_core::new_id();
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        let times = [-5_000_i64, -1, 0, 1, 1_795_613_745_123];
        let mut pairs = Vec::new();
        for t in times {
            for id in [lo, hi] {
                pairs.push((Timestamp::from_millis(t), id));
            }
        }
        let members: Vec<String> = pairs.iter().map(|(t, id)| member(*t, *id)).collect();
        let mut sorted = members.clone();
        sorted.sort();
        assert_eq!(members, sorted);
        // The scripts take the id from byte 18 on (Lua counts from 1).
        assert_eq!(members[0].len(), 17 + 36);
        assert_eq!(&members[0][17..], lo.to_string());
    }

    #[test]
    fn dedup_keys_tell_absent_from_present() {
        let k = TenantKeys::new("p", "t");
        let s = Scope::tenant("t");
        assert_eq!(k.dedup(&s), "{p:t}:d:!:!:!");
        assert_eq!(k.dedup(&s.clone().with_user("!")), "{p:t}:d:%21:!:!");
        assert_ne!(
            k.dedup(&s.clone().with_user("x")),
            k.dedup(&s.with_agent("x"))
        );
    }
}
