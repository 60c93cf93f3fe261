//! Helpers shared by the suite: fresh tenants, short constructors, and assertions on errors and orders.

use std::fmt::Debug;

use serde_json::Value;

use crate::{
    AddOptions, Embedding, Error, ErrorKind, Filter, Memory, MemoryId, MemoryStore, MemoryStoreExt,
    NewMemory, Result, Scope,
};

/// A new tenant name no other run uses.
pub(crate) fn fresh_tenant() -> String {
    format!("t-{}", crate::new_id().simple())
}

/// The whole of a fresh tenant.
pub(crate) fn fresh_scope() -> Scope {
    Scope::tenant(fresh_tenant())
}

/// Adds one memory without deduplication; returns the stored memory.
pub(crate) async fn put(store: &dyn MemoryStore, m: NewMemory) -> Memory {
    let what = format!("adding {:?}", m.content);
    let mut added = store
        .add(vec![m], no_dedup())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(
        added.len(),
        1,
        "{what}: add of one memory returned {} results",
        added.len()
    );
    let a = added.pop().expect("one result");
    assert!(
        a.created,
        "{what}: a new memory must be created (created: true)"
    );
    a.memory
}

/// Adds a batch without deduplication; returns the stored memories in order.
pub(crate) async fn put_all(store: &dyn MemoryStore, batch: Vec<NewMemory>) -> Vec<Memory> {
    let n = batch.len();
    let added = store
        .add(batch, no_dedup())
        .await
        .unwrap_or_else(|e| panic!("adding a batch of {n}: {e}"));
    assert_eq!(added.len(), n, "add returns one result per memory");
    added.into_iter().map(|a| a.memory).collect()
}

/// `AddOptions` with deduplication off.
pub(crate) fn no_dedup() -> AddOptions {
    AddOptions { dedup: Some(false) }
}

/// `AddOptions` with deduplication on.
pub(crate) fn with_dedup() -> AddOptions {
    AddOptions { dedup: Some(true) }
}

/// Asserts `r` failed with `kind`; returns the error.
#[track_caller]
pub(crate) fn expect_err<T: Debug>(r: Result<T>, kind: ErrorKind, what: &str) -> Error {
    match r {
        Ok(v) => panic!("{what}: expected a {kind} error, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{what}: expected a {kind} error, got: {e}");
            e
        }
    }
}

/// Parses a filter from its JSON form (the suite's filters are all valid).
#[track_caller]
pub(crate) fn filter(v: Value) -> Filter {
    Filter::parse(&v).unwrap_or_else(|e| panic!("the suite's filter {v} must parse: {e}"))
}

/// Every memory in `scope` passing `f`, by `list_all`, with the count checked against `count`.
pub(crate) async fn listed(
    store: &dyn MemoryStore,
    scope: &Scope,
    f: Option<&Filter>,
) -> Vec<Memory> {
    let what = || match f {
        Some(f) => format!("listing {scope:?} with filter {}", f.to_json()),
        None => format!("listing {scope:?}"),
    };
    let all = store
        .list_all(scope, f)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", what()));
    let n = store
        .count(scope, f)
        .await
        .unwrap_or_else(|e| panic!("counting for {}: {e}", what()));
    assert_eq!(n, all.len() as u64, "{}: count disagrees with list", what());
    assert_newest_first(&all, &what());
    all
}

/// The contents of the memories in `scope` passing `f`, sorted (for set comparisons by label).
pub(crate) async fn labels(store: &dyn MemoryStore, scope: &Scope, f: Value) -> Vec<String> {
    let f = filter(f);
    let mut v: Vec<String> = listed(store, scope, Some(&f))
        .await
        .into_iter()
        .map(|m| m.content)
        .collect();
    v.sort();
    v
}

/// `items` as sorted owned strings.
pub(crate) fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// Sorts memories newest first: `created_at` descending, then `id` descending.
pub(crate) fn sort_newest_first(v: &mut [Memory]) {
    v.sort_by_key(|m| std::cmp::Reverse((m.created_at, m.id)));
}

/// Asserts memories are strictly newest first.
#[track_caller]
pub(crate) fn assert_newest_first(v: &[Memory], what: &str) {
    for w in v.windows(2) {
        assert!(
            (w[0].created_at, w[0].id) > (w[1].created_at, w[1].id),
            "{what}: not newest first (created_at desc, id desc): {} ({}) before {} ({})",
            w[0].id,
            w[0].created_at,
            w[1].id,
            w[1].created_at
        );
    }
}

/// The ids of memories.
pub(crate) fn ids(v: &[Memory]) -> Vec<MemoryId> {
    v.iter().map(|m| m.id).collect()
}

/// An embedding of the suite's own model.
pub(crate) fn emb(vector: &[f32]) -> Embedding {
    Embedding {
        model: "memlane-testkit".into(),
        vector: vector.to_vec(),
    }
}

/// A JSON object from a `json!` object literal.
#[track_caller]
pub(crate) fn obj(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(o) => o,
        other => panic!("the suite's metadata {other} must be an object"),
    }
}

/// Sleeps (on the tokio runtime).
pub(crate) async fn sleep_ms(ms: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}
