//! Expiry (only for stores whose capabilities say `ttl`): an expired memory is never returned by any operation, and
//! expiry can be set, changed and cleared.

use std::time::Duration;

use serde_json::json;

use super::support::{emb, expect_err, filter, fresh_scope, listed, put, sleep_ms, with_dedup};
use crate::{ErrorKind, MemoryStore, NewMemory, SearchMode, SearchQuery, Timestamp, Update};

/// Tolerance between the suite's clock and the backend's, in milliseconds.
const SKEW_MS: i64 = 10_000;

/// A memory with a 300 ms TTL is visible at first; after 700 ms no operation returns it (get, get_many, list,
/// count, search, update, delete, dedup), while a memory without TTL stays.
pub async fn ttl_expiry(store: &dyn MemoryStore) {
    let caps = store.capabilities();
    if !caps.ttl {
        return;
    }
    let scope = fresh_scope().with_user("u");
    let t = scope.tenant.clone();
    let keeper = put(
        store,
        NewMemory::new(scope.clone(), "a lasting note").embedding(emb(&[0.0, 1.0])),
    )
    .await;
    let m = put(
        store,
        NewMemory::new(scope.clone(), "an ephemeral note")
            .ttl(Duration::from_millis(300))
            .embedding(emb(&[1.0, 0.0])),
    )
    .await;
    let exp = m.expires_at.expect("a memory with a ttl has expires_at");
    let delta = exp.as_millis() - m.created_at.as_millis();
    assert!(
        (300 - 1_000..=300 + 1_000).contains(&delta),
        "expires_at is created_at + ttl, got {delta} ms"
    );

    assert_eq!(store.get(&t, m.id).await.expect("get before expiry"), m);
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        2,
        "visible before expiry"
    );

    sleep_ms(700).await;

    expect_err(
        store.get(&t, m.id).await,
        ErrorKind::NotFound,
        "get after expiry",
    );
    assert_eq!(
        store
            .get_many(&t, &[m.id, keeper.id])
            .await
            .expect("get_many"),
        vec![keeper.clone()]
    );
    assert_eq!(
        listed(store, &scope, None).await,
        vec![keeper.clone()],
        "list after expiry"
    );
    let f = filter(json!({"field": "expires_at", "exists": true}));
    assert!(
        listed(store, &scope, Some(&f)).await.is_empty(),
        "filtered list after expiry"
    );
    if caps.keyword_search {
        let hits = store
            .search(&SearchQuery::new(scope.clone(), "ephemeral note"))
            .await
            .expect("search");
        assert!(
            hits.iter().all(|h| h.memory.id != m.id),
            "keyword search after expiry"
        );
    }
    if caps.semantic_search {
        let mut q = SearchQuery::new(scope.clone(), "ephemeral").mode(SearchMode::Semantic);
        q.embedding = Some(emb(&[1.0, 0.0]));
        let hits = store.search(&q).await.expect("semantic search");
        assert!(
            hits.iter().all(|h| h.memory.id != m.id),
            "semantic search after expiry"
        );
    }
    expect_err(
        store
            .update(&t, m.id, Update::default().content("revived"))
            .await,
        ErrorKind::NotFound,
        "update after expiry",
    );
    expect_err(
        store.delete(&t, m.id).await,
        ErrorKind::NotFound,
        "delete after expiry",
    );
    let again = store
        .add(
            vec![NewMemory::new(scope.clone(), "an ephemeral note")],
            with_dedup(),
        )
        .await
        .expect("add the expired content again");
    assert!(again[0].created, "an expired memory does not deduplicate");
    assert_ne!(again[0].memory.id, m.id);

    store.purge_expired().await.expect("purge_expired");
    assert_eq!(
        store.get(&t, keeper.id).await.expect("get"),
        keeper,
        "purging keeps live memories"
    );
    assert_eq!(store.count(&scope, None).await.expect("count"), 2);
}

/// An expiry in the past, or both `ttl` and `expires_at`, is invalid; an explicit `expires_at` is kept to the
/// millisecond; updates set, move and clear the expiry, with effect.
pub async fn ttl_validation_and_update(store: &dyn MemoryStore) {
    if !store.capabilities().ttl {
        return;
    }
    let scope = fresh_scope();
    let t = scope.tenant.clone();
    let past = Timestamp::from_millis(Timestamp::now().as_millis() - 1_000);
    let mut bad = NewMemory::new(scope.clone(), "expired on arrival");
    bad.expires_at = Some(past);
    expect_err(
        store.add(vec![bad], Default::default()).await,
        ErrorKind::InvalidInput,
        "expires_at in the past",
    );
    let mut both = NewMemory::new(scope.clone(), "both").ttl(Duration::from_secs(60));
    both.expires_at = Some(Timestamp::now().plus(Duration::from_secs(60)));
    expect_err(
        store.add(vec![both], Default::default()).await,
        ErrorKind::InvalidInput,
        "ttl and expires_at",
    );
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        0,
        "nothing stored"
    );

    let at = Timestamp::now().plus(Duration::from_millis(3_600_123));
    let mut exact = NewMemory::new(scope.clone(), "expires at a set time");
    exact.expires_at = Some(at);
    let exact = put(store, exact).await;
    assert_eq!(
        exact.expires_at,
        Some(at),
        "expires_at kept to the millisecond"
    );

    let m = put(store, NewMemory::new(scope.clone(), "no expiry yet")).await;
    let u = store
        .update(
            &t,
            m.id,
            Update {
                ttl: Some(Duration::from_secs(3600)),
                ..Update::default()
            },
        )
        .await
        .expect("set a ttl");
    let want = Timestamp::now().plus(Duration::from_secs(3600)).as_millis();
    let got = u
        .expires_at
        .expect("an update with ttl sets expires_at")
        .as_millis();
    assert!(
        (got - want).abs() < SKEW_MS,
        "ttl counts from the update: {got} vs {want}"
    );
    assert_eq!(u.version, 2);
    let later = Timestamp::now().plus(Duration::from_secs(7200));
    let u = store
        .update(
            &t,
            m.id,
            Update {
                expires_at: Some(Some(later)),
                ..Update::default()
            },
        )
        .await
        .expect("move the expiry");
    assert_eq!(u.expires_at, Some(later));
    let u = store
        .update(
            &t,
            m.id,
            Update {
                expires_at: Some(None),
                ..Update::default()
            },
        )
        .await
        .expect("clear the expiry");
    assert_eq!((u.expires_at, u.version), (None, 4));
    assert_eq!(store.get(&t, m.id).await.expect("get"), u);
    expect_err(
        store
            .update(
                &t,
                m.id,
                Update {
                    expires_at: Some(Some(past)),
                    ..Update::default()
                },
            )
            .await,
        ErrorKind::InvalidInput,
        "update to an expiry in the past",
    );

    // With effect: a cleared ttl keeps the memory, a new short ttl ends it.
    let saved = put(
        store,
        NewMemory::new(scope.clone(), "saved from expiry").ttl(Duration::from_millis(300)),
    )
    .await;
    store
        .update(
            &t,
            saved.id,
            Update {
                expires_at: Some(None),
                ..Update::default()
            },
        )
        .await
        .expect("clear a short ttl");
    let doomed = store
        .update(
            &t,
            m.id,
            Update {
                ttl: Some(Duration::from_millis(300)),
                ..Update::default()
            },
        )
        .await
        .expect("set a short ttl");
    assert!(doomed.expires_at.is_some());
    sleep_ms(700).await;
    assert_eq!(
        store
            .get(&t, saved.id)
            .await
            .expect("a cleared expiry")
            .expires_at,
        None
    );
    expect_err(
        store.get(&t, m.id).await,
        ErrorKind::NotFound,
        "a memory whose update set a short ttl",
    );
}
