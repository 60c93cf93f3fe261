//! Adding what is already there: idempotency by id, deduplication by content, and all-or-nothing batches.

use serde_json::json;

use super::support::{expect_err, fresh_scope, no_dedup, put, with_dedup};
use crate::{new_id, ErrorKind, MemoryStore, NewMemory, Update};

/// Adding an id that exists with the same content and scope returns it unchanged (`created: false`); with other
/// content, or another scope, it is a conflict that changes nothing.
pub async fn add_idempotent_by_id(store: &dyn MemoryStore) {
    let scope = fresh_scope().with_user("alice");
    let t = scope.tenant.clone();
    let id = new_id();
    let first = store
        .add(
            vec![NewMemory::new(scope.clone(), "idempotent")
                .id(id)
                .meta("k", 1)],
            no_dedup(),
        )
        .await
        .expect("add with a caller's id");
    assert!(first[0].created, "a new id is created");
    assert_eq!(first[0].memory.id, id, "the caller's id is kept");
    let m = first[0].memory.clone();

    for opts in [no_dedup(), with_dedup()] {
        let again = store
            .add(
                vec![NewMemory::new(scope.clone(), "idempotent")
                    .id(id)
                    .meta("k", 1)],
                opts,
            )
            .await
            .expect("re-add of the same id and content");
        assert!(
            !again[0].created,
            "re-adding the same id and content creates nothing ({opts:?})"
        );
        assert_eq!(
            again[0].memory, m,
            "and returns the stored memory unchanged ({opts:?})"
        );
    }

    expect_err(
        store
            .add(
                vec![NewMemory::new(scope.clone(), "other content").id(id)],
                no_dedup(),
            )
            .await,
        ErrorKind::Conflict,
        "same id, other content",
    );
    expect_err(
        store
            .add(
                vec![NewMemory::new(scope.clone().with_user("bob"), "idempotent").id(id)],
                no_dedup(),
            )
            .await,
        ErrorKind::Conflict,
        "same id and content, other scope",
    );
    assert_eq!(
        store.get(&t, id).await.expect("get"),
        m,
        "conflicts change nothing"
    );
    assert_eq!(
        store
            .count(&crate::Scope::tenant(t), None)
            .await
            .expect("count"),
        1
    );
}

/// With dedup on, content that exists (unexpired) in exactly the same scope returns the existing memory; another
/// scope, dedup off, a deleted original or changed content make a new one. Dedup applies within a batch too.
pub async fn add_dedup(store: &dyn MemoryStore) {
    let alice = fresh_scope().with_user("alice");
    let t = alice.tenant.clone();
    let a = store
        .add(
            vec![NewMemory::new(alice.clone(), "Alice likes tea").meta("n", 1)],
            with_dedup(),
        )
        .await
        .expect("add");
    assert!(a[0].created, "the first copy is created");
    let a = a[0].memory.clone();

    let b = store
        .add(
            vec![NewMemory::new(alice.clone(), "Alice likes tea").meta("n", 2)],
            with_dedup(),
        )
        .await
        .expect("add a duplicate");
    assert!(
        !b[0].created,
        "same content in the same scope is not created again"
    );
    assert_eq!(
        b[0].memory, a,
        "the existing memory is returned, unchanged (metadata not merged)"
    );

    for other in [
        alice.clone().with_session("s1"),
        crate::Scope::tenant(t.clone()).with_user("bob"),
        crate::Scope::tenant(t.clone()),
    ] {
        let c = store
            .add(
                vec![NewMemory::new(other.clone(), "Alice likes tea")],
                with_dedup(),
            )
            .await
            .expect("add in another scope");
        assert!(
            c[0].created,
            "same content in another scope {other:?} is a new memory"
        );
        assert_ne!(c[0].memory.id, a.id);
        assert_eq!(c[0].memory.scope, other);
    }

    let d = put(store, NewMemory::new(alice.clone(), "Alice likes tea")).await;
    assert_ne!(d.id, a.id, "dedup off stores a duplicate");
    let exact = crate::Scope::tenant(t.clone()).with_user("alice");
    let f = super::support::filter(json!({"field": "session", "exists": false}));
    assert_eq!(
        store.count(&exact, Some(&f)).await.expect("count"),
        2,
        "two copies in alice's own scope"
    );

    let e = store
        .add(
            vec![NewMemory::new(alice.clone(), "Alice likes tea")],
            with_dedup(),
        )
        .await
        .expect("add with two copies present");
    assert!(!e[0].created);
    assert!(
        [a.id, d.id].contains(&e[0].memory.id),
        "one of the existing copies is returned"
    );

    // Within one batch.
    let batch = store
        .add(
            vec![
                NewMemory::new(alice.clone(), "said twice in one batch"),
                NewMemory::new(alice.clone(), "said twice in one batch"),
            ],
            with_dedup(),
        )
        .await
        .expect("a batch with a duplicate");
    assert!(
        batch[0].created && !batch[1].created,
        "the second copy in a batch deduplicates to the first"
    );
    assert_eq!(batch[1].memory, batch[0].memory);

    // The index follows deletes and content changes.
    for m in [a.id, d.id] {
        store.delete(&t, m).await.expect("delete");
    }
    let f = store
        .add(
            vec![NewMemory::new(alice.clone(), "Alice likes tea")],
            with_dedup(),
        )
        .await
        .expect("add after deleting the copies");
    assert!(f[0].created, "deleted memories do not deduplicate");
    let changed = store
        .update(
            &t,
            f[0].memory.id,
            Update::default().content("Alice likes coffee"),
        )
        .await
        .expect("update content");
    let g = store
        .add(
            vec![NewMemory::new(alice.clone(), "Alice likes tea")],
            with_dedup(),
        )
        .await
        .expect("add the old content again");
    assert!(
        g[0].created,
        "content changed away from X does not deduplicate X"
    );
    let h = store
        .add(
            vec![NewMemory::new(alice.clone(), "Alice likes coffee")],
            with_dedup(),
        )
        .await
        .expect("add the new content");
    assert!(!h[0].created, "content changed to Y deduplicates Y");
    assert_eq!(h[0].memory, changed);
}

/// With transactions, a batch that fails while writing (an id conflict, found after validation) stores none of it.
pub async fn add_batch_atomic(store: &dyn MemoryStore) {
    if !store.capabilities().transactions {
        return;
    }
    let scope = fresh_scope();
    let existing = put(store, NewMemory::new(scope.clone(), "already here")).await;
    let fresh_a = new_id();
    let batch = vec![
        NewMemory::new(scope.clone(), "new one").id(fresh_a),
        NewMemory::new(scope.clone(), "new two"),
        NewMemory::new(scope.clone(), "conflicting content").id(existing.id),
        NewMemory::new(scope.clone(), "new three"),
    ];
    expect_err(
        store.add(batch, no_dedup()).await,
        ErrorKind::Conflict,
        "a batch with an id conflict",
    );
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        1,
        "nothing of the failed batch is stored"
    );
    expect_err(
        store.get(&scope.tenant, fresh_a).await,
        ErrorKind::NotFound,
        "the batch's first memory",
    );
    assert_eq!(
        store.get(&scope.tenant, existing.id).await.expect("get"),
        existing,
        "unchanged"
    );
}
