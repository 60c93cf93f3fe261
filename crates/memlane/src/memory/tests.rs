//! Unit tests of what the conformance suite cannot see: options, purging, the store's dedup default.

use std::time::Duration;

use memlane_core::{
    AddOptions, Capability, ErrorKind, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchMode,
    SearchQuery,
};

use super::MemoryBackend;
use crate::OpenOptions;

fn open(url: &str) -> memlane_core::Result<std::sync::Arc<dyn MemoryStore>> {
    MemoryBackend::open_with(&mut OpenOptions::parse(url)?)
}

#[tokio::test]
async fn options_are_checked() {
    assert!(open("memory://").is_ok());
    assert!(open("memory://?dedup=false").is_ok());
    for bad in [
        "memory://?dedup=maybe",
        "memory://?colour=blue",
        "memory://somewhere",
    ] {
        let err = open(bad).expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err}");
    }
}

#[tokio::test]
async fn dedup_default_follows_the_option() {
    let scope = Scope::tenant("t");
    for (url, copies) in [("memory://", 1), ("memory://?dedup=false", 2)] {
        let store = open(url).expect("open");
        for _ in 0..2 {
            store
                .add_one(NewMemory::new(scope.clone(), "same"))
                .await
                .expect("add");
        }
        assert_eq!(
            store.count(&scope, None).await.expect("count"),
            copies,
            "{url}"
        );
        // Explicit options win over the store's default.
        let added = store
            .add(
                vec![NewMemory::new(scope.clone(), "same")],
                AddOptions { dedup: Some(false) },
            )
            .await
            .expect("add");
        assert!(added[0].created);
    }
}

#[tokio::test]
async fn purge_removes_only_expired() {
    let store = MemoryBackend::new();
    let scope = Scope::tenant("t");
    store
        .add_one(NewMemory::new(scope.clone(), "short").ttl(Duration::from_millis(50)))
        .await
        .expect("add");
    store
        .add_one(NewMemory::new(scope.clone(), "long").ttl(Duration::from_secs(3600)))
        .await
        .expect("add");
    store
        .add_one(NewMemory::new(Scope::tenant("u"), "short too").ttl(Duration::from_millis(50)))
        .await
        .expect("add");
    assert_eq!(
        store.purge_expired().await.expect("purge"),
        0,
        "nothing expired yet"
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(store.purge_expired().await.expect("purge"), 2);
    assert_eq!(
        store.purge_expired().await.expect("purge"),
        0,
        "purged once"
    );
    assert_eq!(store.count(&scope, None).await.expect("count"), 1);
    let tenants = store.tenants.read().expect("lock").len();
    assert_eq!(tenants, 1, "a tenant left empty is dropped");
}

#[tokio::test]
async fn keyword_and_hybrid_are_unsupported() {
    let store = MemoryBackend::new();
    assert!(!store.capabilities().keyword_search);
    for (mode, cap) in [
        (SearchMode::Keyword, Capability::KeywordSearch),
        (SearchMode::Hybrid, Capability::HybridSearch),
    ] {
        let err = store
            .search(&SearchQuery::new(Scope::tenant("t"), "x").mode(mode))
            .await
            .expect_err("unsupported");
        assert_eq!(err.to_string(), format!("memory: unsupported: {cap}"));
    }
    let err = store
        .search(&SearchQuery::new(Scope::tenant("t"), "x").mode(SearchMode::Semantic))
        .await
        .expect_err("no query vector");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn debug_does_not_dump_memories() {
    let s = format!("{:?}", MemoryBackend::new());
    assert!(s.contains("MemoryBackend") && s.contains("tenants"), "{s}");
}
