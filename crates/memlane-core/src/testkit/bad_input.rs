//! Bad input is refused with the right error kind, before anything is written: a batch with one bad memory stores
//! none of it, whatever the store's transactions.

use serde_json::json;

use super::support::{emb, expect_err, fresh_scope, no_dedup, obj, put};
use crate::{ErrorKind, ListQuery, MemoryStore, NewMemory, Scope, Update, MAX_NAME_BYTES};

/// A string of exactly `bytes` bytes, mostly two-byte characters (limits count bytes, not characters).
fn text_of(bytes: usize) -> String {
    let mut s = "é".repeat(bytes / 2);
    if bytes % 2 == 1 {
        s.push('a');
    }
    s
}

/// Empty, whitespace-only or NUL-containing content is invalid; content of exactly `max_content_bytes` is stored,
/// one byte more is too large; metadata over `max_metadata_bytes` is too large; bad embeddings and version 0 are
/// invalid.
pub async fn reject_bad_content(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let limits = store.capabilities().limits;
    let add = |m: NewMemory| store.add(vec![m], no_dedup());
    for bad in ["", "   ", "\n\t ", "nul \0 inside"] {
        expect_err(
            add(NewMemory::new(scope.clone(), bad)).await,
            ErrorKind::InvalidInput,
            &format!("content {bad:?}"),
        );
    }
    let max = text_of(limits.max_content_bytes);
    assert_eq!(max.len(), limits.max_content_bytes);
    let stored = put(store, NewMemory::new(scope.clone(), max.clone())).await;
    assert_eq!(stored.content, max, "content at the limit is stored whole");
    let over = text_of(limits.max_content_bytes + 1);
    expect_err(
        add(NewMemory::new(scope.clone(), over)).await,
        ErrorKind::TooLarge,
        "content one byte over the limit",
    );
    let big = "x".repeat(limits.max_metadata_bytes);
    expect_err(
        add(NewMemory::new(scope.clone(), "big metadata").meta("blob", big)).await,
        ErrorKind::TooLarge,
        "metadata over the limit",
    );
    expect_err(
        add(NewMemory::new(scope.clone(), "empty vector").embedding(emb(&[]))).await,
        ErrorKind::InvalidInput,
        "an empty embedding",
    );
    expect_err(
        add(NewMemory::new(scope.clone(), "nan vector").embedding(emb(&[1.0, f32::NAN]))).await,
        ErrorKind::InvalidInput,
        "a NaN in an embedding",
    );
    let mut v0 = NewMemory::new(scope.clone(), "version zero");
    v0.version = Some(0);
    expect_err(add(v0).await, ErrorKind::InvalidInput, "version 0");
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        1,
        "only the good memory is stored"
    );
}

/// A batch with one bad memory stores none of it, and the error names the bad one (`memories[2]`); an empty
/// batch, or one over `max_batch`, is invalid.
pub async fn reject_bad_batch(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    put(store, NewMemory::new(scope.clone(), "before")).await;
    let mut batch: Vec<NewMemory> = (0..5)
        .map(|i| NewMemory::new(scope.clone(), format!("good {i}")))
        .collect();
    batch[2] = NewMemory::new(scope.clone(), "  ");
    let err = expect_err(
        store.add(batch.clone(), no_dedup()).await,
        ErrorKind::InvalidInput,
        "a batch with empty content",
    );
    assert!(
        err.to_string().contains("memories[2]"),
        "the error names the bad memory: {err}"
    );
    batch[2] = NewMemory::new(
        scope.clone(),
        "x".repeat(store.capabilities().limits.max_content_bytes + 1),
    );
    expect_err(
        store.add(batch.clone(), no_dedup()).await,
        ErrorKind::TooLarge,
        "a batch with a too large memory",
    );
    batch[2] = NewMemory::new(scope.clone().with_user(""), "bad scope");
    expect_err(
        store.add(batch, no_dedup()).await,
        ErrorKind::InvalidInput,
        "a batch with a bad scope",
    );
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        1,
        "nothing of the bad batches is stored"
    );

    expect_err(
        store.add(Vec::new(), no_dedup()).await,
        ErrorKind::InvalidInput,
        "an empty batch",
    );
    let max = store.capabilities().limits.max_batch;
    let huge: Vec<NewMemory> = (0..=max)
        .map(|i| NewMemory::new(scope.clone(), format!("m{i}")))
        .collect();
    expect_err(
        store.add(huge, no_dedup()).await,
        ErrorKind::InvalidInput,
        "a batch over max_batch",
    );
    assert_eq!(store.count(&scope, None).await.expect("count"), 1);
}

/// Scope names must be non-empty, without control characters and at most 256 bytes; in adds and in queries.
pub async fn reject_bad_scope(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let t = scope.tenant.clone();
    let long = "u".repeat(MAX_NAME_BYTES + 1);
    let cases: Vec<(Scope, ErrorKind)> = vec![
        (Scope::tenant(""), ErrorKind::InvalidInput),
        (scope.clone().with_user(""), ErrorKind::InvalidInput),
        (
            scope.clone().with_agent("bad\nagent"),
            ErrorKind::InvalidInput,
        ),
        (
            scope.clone().with_session("tab\tsession"),
            ErrorKind::InvalidInput,
        ),
        (scope.clone().with_user(long.clone()), ErrorKind::TooLarge),
    ];
    for (bad, kind) in cases {
        let what = format!("scope {bad:?}");
        expect_err(
            store
                .add(vec![NewMemory::new(bad.clone(), "x")], no_dedup())
                .await,
            kind,
            &what,
        );
        expect_err(
            store.list(&ListQuery::new(bad.clone())).await,
            kind,
            &format!("list in {what}"),
        );
        expect_err(
            store.count(&bad, None).await,
            kind,
            &format!("count in {what}"),
        );
        expect_err(store.forget(&bad).await, kind, &format!("forget {what}"));
    }
    let ok = put(
        store,
        NewMemory::new(
            scope.clone().with_user("u".repeat(MAX_NAME_BYTES)),
            "long name",
        ),
    )
    .await;
    assert_eq!(
        ok.scope.user.as_deref().map(str::len),
        Some(MAX_NAME_BYTES),
        "a name of exactly 256 bytes is fine"
    );
    assert_eq!(
        store.count(&Scope::tenant(t), None).await.expect("count"),
        1
    );
}

/// An empty update, empty content, too large content or metadata, and both `ttl` and `expires_at`, are refused
/// and change nothing.
pub async fn reject_bad_update(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let t = scope.tenant.clone();
    let m = put(
        store,
        NewMemory::new(scope.clone(), "original").meta("k", "v"),
    )
    .await;
    let limits = store.capabilities().limits;
    let cases = [
        (
            Update::default(),
            ErrorKind::InvalidInput,
            "an empty update",
        ),
        (
            Update::default().content(""),
            ErrorKind::InvalidInput,
            "empty content",
        ),
        (
            Update::default().content(" \n "),
            ErrorKind::InvalidInput,
            "whitespace content",
        ),
        (
            Update::default().content(text_of(limits.max_content_bytes + 1)),
            ErrorKind::TooLarge,
            "too large content",
        ),
        (
            Update::default().metadata(obj(json!({"blob": "x".repeat(limits.max_metadata_bytes)}))),
            ErrorKind::TooLarge,
            "too large metadata",
        ),
        (
            Update {
                ttl: Some(std::time::Duration::from_secs(60)),
                expires_at: Some(None),
                ..Update::default()
            },
            ErrorKind::InvalidInput,
            "ttl and expires_at",
        ),
        (
            Update {
                embedding: Some(emb(&[f32::INFINITY])),
                ..Update::default()
            },
            ErrorKind::InvalidInput,
            "an infinite embedding",
        ),
    ];
    for (u, kind, what) in cases {
        expect_err(store.update(&t, m.id, u).await, kind, what);
    }
    assert_eq!(
        store.get(&t, m.id).await.expect("get"),
        m,
        "refused updates change nothing"
    );
}
