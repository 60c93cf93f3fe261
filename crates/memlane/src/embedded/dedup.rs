//! Duplicate detection in RAM: which stored rows may hold the same content in the same scope.
//!
//! Dedup (see `write::add`) looks for the live memory with the same content hash in exactly the same scope. An SQL
//! index on the hash made every insert touch a random page of that index: three quarters of the pages a batch of
//! 100 wrote to the log, and of what checkpoints copied back. Instead the store keeps in RAM a map from a 64-bit
//! digest of (scope, content hash) to rowids, kept in step by the writer after each commit like the text index and
//! the vectors, and loaded at open. Its answers are only candidates: the writer reads them back by rowid in SQL and
//! checks hash, scope and expiry there, so a digest collision or a stale entry never makes a wrong match.
//!
//! Another process writing to the same directory is noticed through SQLite's `data_version` (it changes when
//! another connection commits): before the next dedup lookup the map is reloaded from the database, so dedup stays
//! exact across processes (each such reload reads one column of every row).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, MutexGuard};

use memlane_core::{Result, Scope};
use rusqlite::Connection;

use super::error::map;

#[derive(Debug, Default)]
struct Map {
    by_digest: HashMap<u64, Vec<i64>>,
    by_row: HashMap<i64, u64>,
    /// The writer connection's `data_version` when the map was last in step with the database.
    data_version: i64,
}

/// The digests of every stored memory, by rowid; shared by the writer's operations.
#[derive(Debug, Default)]
pub(crate) struct Hashes {
    inner: Mutex<Map>,
}

/// The digest of a scope and a content hash (deterministic: SipHash with fixed keys).
pub(crate) fn digest(scope: &Scope, content_hash: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (
        &scope.tenant,
        &scope.user,
        &scope.agent,
        &scope.session,
        content_hash,
    )
        .hash(&mut h);
    h.finish()
}

fn data_version(conn: &Connection) -> Result<i64> {
    conn.pragma_query_value(None, "data_version", |r| r.get(0))
        .map_err(map)
}

fn read_all(conn: &Connection) -> Result<Map> {
    let mut m = Map {
        data_version: data_version(conn)?,
        ..Map::default()
    };
    let mut stmt = conn
        .prepare("SELECT rowid, tenant, user_id, agent_id, session_id, content_hash FROM memories")
        .map_err(map)?;
    let mut rows = stmt.query([]).map_err(map)?;
    while let Some(r) = rows.next().map_err(map)? {
        let scope = Scope {
            tenant: r.get(1).map_err(map)?,
            user: r.get(2).map_err(map)?,
            agent: r.get(3).map_err(map)?,
            session: r.get(4).map_err(map)?,
        };
        let hash: String = r.get(5).map_err(map)?;
        m.put(r.get(0).map_err(map)?, digest(&scope, &hash));
    }
    Ok(m)
}

impl Map {
    fn put(&mut self, rowid: i64, d: u64) {
        self.remove(rowid);
        self.by_digest.entry(d).or_default().push(rowid);
        self.by_row.insert(rowid, d);
    }

    fn remove(&mut self, rowid: i64) {
        let Some(d) = self.by_row.remove(&rowid) else {
            return;
        };
        if let Some(rows) = self.by_digest.get_mut(&d) {
            rows.retain(|r| *r != rowid);
            if rows.is_empty() {
                self.by_digest.remove(&d);
            }
        }
    }
}

impl Hashes {
    /// Reads the digest of every stored memory through `conn` (the writer's connection).
    pub(crate) fn load(conn: &Connection) -> Result<Hashes> {
        Ok(Hashes {
            inner: Mutex::new(read_all(conn)?),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Map> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings the map in step with the database when another connection (another process) has committed since;
    /// call with the writer's connection, inside its transaction.
    pub(crate) fn sync(&self, conn: &Connection) -> Result<()> {
        let now = data_version(conn)?;
        let mut m = self.lock();
        if m.data_version != now {
            tracing::debug!(
                backend = super::error::NAME,
                "another process wrote to the store: reloading dedup digests"
            );
            *m = read_all(conn)?;
        }
        Ok(())
    }

    /// The rowids that may hold content with this hash in exactly this scope.
    pub(crate) fn candidates(&self, scope: &Scope, content_hash: &str) -> Vec<i64> {
        self.lock()
            .by_digest
            .get(&digest(scope, content_hash))
            .cloned()
            .unwrap_or_default()
    }

    /// After a commit: forgets `gone` rows and records `stored` ones (rowid, scope, content hash).
    pub(crate) fn apply<'a>(
        &self,
        gone: &[i64],
        stored: impl IntoIterator<Item = (i64, &'a Scope, &'a str)>,
    ) {
        let mut m = self.lock();
        for r in gone {
            m.remove(*r);
        }
        for (rowid, scope, hash) in stored {
            m.put(rowid, digest(scope, hash));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_puts_and_removes() {
        let h = Hashes::default();
        let a = Scope::tenant("t").with_user("u");
        let b = Scope::tenant("t");
        h.apply(&[], [(1, &a, "h1"), (2, &a, "h1"), (3, &b, "h1")]);
        assert_eq!(h.candidates(&a, "h1"), [1, 2]);
        assert_eq!(h.candidates(&b, "h1"), [3]);
        assert!(h.candidates(&a, "h2").is_empty());
        h.apply(&[1], []);
        assert_eq!(h.candidates(&a, "h1"), [2]);
        h.apply(&[], [(2, &a, "h2")]);
        assert!(h.candidates(&a, "h1").is_empty());
        assert_eq!(h.candidates(&a, "h2"), [2]);
    }

    #[test]
    fn scope_fields_do_not_run_together() {
        let a = Scope::tenant("t").with_user("ab");
        let mut b = Scope::tenant("t").with_user("a");
        b.agent = Some("b".into());
        assert_ne!(digest(&a, "h"), digest(&b, "h"));
    }
}
