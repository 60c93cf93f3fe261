//! Metadata keys with an index for filtered listings: the declared ones (`index_metadata`), those found built in
//! the database, and those built on demand (`auto_index_metadata`).
//!
//! A user's listing whose filter requires `metadata.KEY eq "string"` reads its page straight from the key's index
//! when there is one (`read::list`). Without one it reads the user's newest memories until the page is full, which
//! costs more the rarer the value. So the store counts, per key, the listings that could have used an index and did
//! not; when a key reaches `auto_index_after` of them and fewer than `auto_index_metadata` keys were indexed that
//! way, a background task builds the key's index with `CREATE INDEX CONCURRENTLY` (writes go on meanwhile), and
//! listings use it once it is valid. Only plain keys (1-48 ASCII letters, digits or `_`) qualify: the key is part of
//! the DDL. At open, the valid `memlane_memories_meta_KEY` indexes already in the database are used, whoever built
//! them (unless `auto_index_metadata=0`: then exactly the declared keys are).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use memlane_core::{Filter, Result};
use tokio_postgres::Client;

use super::error::map;
use super::schema::{metadata_index_ddl, metadata_index_name};
use super::sql::top_level_string_eqs;

/// The most keys whose listings are counted at a time (so that many distinct keys cannot grow the map for ever).
const MAX_TRACKED: usize = 64;

/// Whether `key` may be part of an index's name and expression.
pub(crate) fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 48 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The indexed keys, and the counts that decide which key to index next. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct KeyIndexes {
    /// Keys with a valid index: a snapshot each listing takes without copying.
    ready: RwLock<Arc<Vec<String>>>,
    /// The declared keys (`index_metadata`), which do not use up `auto_index_metadata`.
    declared: Vec<String>,
    /// Listings that could have used an index, by key; `None` once a build of the key was started.
    seen: Mutex<HashMap<String, Option<u32>>>,
    /// Listings of a key before its index is built.
    after: u32,
    /// Keys indexed on demand, at most.
    max_auto: usize,
    /// A build failed for good (e.g. the role may not create indexes): no more builds by this store.
    given_up: AtomicBool,
}

impl KeyIndexes {
    /// The declared keys and those found in the database; `after` and `max_auto` as configured.
    pub(crate) fn new(
        declared: &[String],
        found: Vec<String>,
        after: u32,
        max_auto: usize,
    ) -> Self {
        let mut ready = declared.to_vec();
        for k in found {
            if !ready.contains(&k) {
                ready.push(k);
            }
        }
        KeyIndexes {
            ready: RwLock::new(Arc::new(ready)),
            declared: declared.to_vec(),
            seen: Mutex::new(HashMap::new()),
            after: after.max(1),
            max_auto,
            given_up: AtomicBool::new(false),
        }
    }

    /// The keys with a valid index now.
    pub(crate) fn ready(&self) -> Arc<Vec<String>> {
        self.ready.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Counts a user's listing with `filter` when no index serves it; returns the key to index now, if one just
    /// reached the threshold and a slot is free (the caller builds it, then calls [`KeyIndexes::built`]).
    pub(crate) fn observe(&self, filter: &Filter, ready: &[String]) -> Option<String> {
        if self.max_auto == 0 || self.given_up.load(Ordering::Relaxed) {
            return None;
        }
        let keys: Vec<&str> = top_level_string_eqs(filter)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        if keys.iter().any(|k| ready.iter().any(|r| r == k)) {
            return None;
        }
        let key = keys.into_iter().find(|k| is_plain_key(k))?;
        let auto = ready.iter().filter(|k| !self.declared.contains(k)).count();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let building = seen.values().filter(|c| c.is_none()).count();
        if auto + building >= self.max_auto {
            return None;
        }
        if !seen.contains_key(key) && seen.len() >= MAX_TRACKED {
            return None;
        }
        let count = seen.entry(key.to_owned()).or_insert(Some(0));
        let n = count.as_mut()?;
        *n += 1;
        if *n < self.after {
            return None;
        }
        *count = None;
        Some(key.to_owned())
    }

    /// Records a build that failed for a reason that will not go away by itself: no more builds by this store.
    pub(crate) fn give_up(&self) {
        self.given_up.store(true, Ordering::Relaxed);
    }

    /// Records the end of a build: the key is served by its index when `valid`; otherwise it is counted afresh.
    pub(crate) fn built(&self, key: &str, valid: bool) {
        if valid {
            let mut ready = self.ready.write().unwrap_or_else(|p| p.into_inner());
            if !ready.iter().any(|k| k == key) {
                let mut next = ready.as_ref().clone();
                next.push(key.to_owned());
                *ready = Arc::new(next);
            }
        }
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// The keys of the valid `memlane_memories_meta_KEY` indexes in the database.
pub(crate) async fn found(client: &Client) -> Result<Vec<String>> {
    let prefix = metadata_index_name("");
    let rows = client
        .query(
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = to_regclass('memlane_memories') AND i.indisvalid AND i.indisready \
             AND starts_with(c.relname::text, $1::text)",
            &[&prefix],
        )
        .await
        .map_err(map)?;
    let mut keys = Vec::new();
    for r in rows {
        let name: String = r.try_get(0).map_err(map)?;
        if let Some(key) = name.strip_prefix(&prefix).filter(|k| is_plain_key(k)) {
            keys.push(key.to_owned());
        }
    }
    Ok(keys)
}

/// Builds `key`'s index without blocking writes (one builder per key across processes, under an advisory lock;
/// an invalid leftover of a failed build is dropped first). Returns whether the index is valid afterwards.
pub(crate) async fn build(client: &Client, key: &str) -> Result<bool> {
    if !is_plain_key(key) {
        return Ok(false);
    }
    let name = metadata_index_name(key);
    let lock = format!("memlane_memories_meta:{key}");
    client
        .execute("SELECT pg_advisory_lock(hashtext($1::text))", &[&lock])
        .await
        .map_err(map)?;
    let built = async {
        // The build may take longer than the pool's statement timeout.
        client
            .batch_execute("SET statement_timeout = 0")
            .await
            .map_err(map)?;
        if valid(client, &name).await? == Some(false) {
            client
                .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))
                .await
                .map_err(map)?;
        }
        client
            .batch_execute(&metadata_index_ddl(key, true))
            .await
            .map_err(map)?;
        valid(client, &name).await
    }
    .await;
    let reset = client
        .batch_execute("RESET statement_timeout")
        .await
        .map_err(map);
    let unlock = client
        .execute("SELECT pg_advisory_unlock(hashtext($1::text))", &[&lock])
        .await
        .map_err(map);
    let valid = built?;
    reset?;
    unlock?;
    Ok(valid == Some(true))
}

/// Whether the index `name` is valid; `None` when there is none.
async fn valid(client: &Client, name: &str) -> Result<Option<bool>> {
    let row = client
        .query_opt(
            "SELECT i.indisvalid AND i.indisready FROM pg_index i WHERE i.indexrelid = to_regclass($1::text)",
            &[&name],
        )
        .await
        .map_err(map)?;
    row.map(|r| r.try_get(0)).transpose().map_err(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(key: &str) -> Filter {
        Filter::parse(&serde_json::json!({"field": format!("metadata.{key}"), "eq": "x"}))
            .expect("filter")
    }

    #[test]
    fn a_key_is_indexed_once_after_the_threshold_and_within_the_cap() {
        let k = KeyIndexes::new(&["declared".into()], vec![], 3, 1);
        let ready = k.ready();
        assert_eq!(k.observe(&eq("category"), &ready), None);
        assert_eq!(k.observe(&eq("category"), &ready), None);
        assert_eq!(
            k.observe(&eq("category"), &ready).as_deref(),
            Some("category")
        );
        assert_eq!(k.observe(&eq("category"), &ready), None, "already building");
        assert_eq!(
            k.observe(&eq("declared"), &ready),
            None,
            "served by its index"
        );
        for _ in 0..5 {
            assert_eq!(
                k.observe(&eq("source"), &ready),
                None,
                "the one slot is taken"
            );
        }
        k.built("category", true);
        assert_eq!(*k.ready(), ["declared", "category"]);
        assert_eq!(
            k.observe(&eq("other"), &k.ready()),
            None,
            "the slot stays taken"
        );
    }

    #[test]
    fn a_failed_build_counts_afresh_and_odd_keys_are_never_indexed() {
        let k = KeyIndexes::new(&[], vec![], 2, 4);
        let ready = k.ready();
        assert_eq!(k.observe(&eq("a"), &ready), None);
        assert_eq!(k.observe(&eq("a"), &ready).as_deref(), Some("a"));
        k.built("a", false);
        assert!(k.ready().is_empty());
        assert_eq!(k.observe(&eq("a"), &ready), None);
        assert_eq!(k.observe(&eq("a"), &ready).as_deref(), Some("a"));
        for _ in 0..5 {
            assert_eq!(k.observe(&eq("we'ird"), &ready), None);
        }
        let off = KeyIndexes::new(&[], vec![], 1, 0);
        assert_eq!(
            off.observe(&eq("a"), &off.ready()),
            None,
            "auto_index_metadata=0"
        );
        k.built("a", false);
        k.give_up();
        assert_eq!(k.observe(&eq("a"), &ready), None, "given up");
    }
}
