//! Concurrent callers: many writers lose nothing; optimistic concurrency lets exactly one of several updates of the
//! same version win.
//!
//! The tasks are futures joined on one test task (the suite borrows the store, so it cannot spawn): their requests
//! are in flight together on any backend that awaits I/O.

use std::collections::HashSet;

use futures::future::join_all;

use super::support::{fresh_scope, put};
use crate::{ErrorKind, MemoryId, MemoryStore, NewMemory, Update};

/// 8 writers adding 50 memories each, concurrently: afterwards the count is 400 and every id is readable.
pub async fn concurrent_writers(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let writers = (0..8).map(|w| {
        let scope = scope.clone();
        async move {
            let mut ids = Vec::with_capacity(50);
            for i in 0..50 {
                let m = put(
                    store,
                    NewMemory::new(scope.clone(), format!("writer {w} memory {i}")).meta("w", w),
                )
                .await;
                ids.push(m.id);
                if i % 5 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            ids
        }
    });
    let ids: Vec<MemoryId> = join_all(writers).await.into_iter().flatten().collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        400,
        "400 distinct ids"
    );
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        400,
        "no write lost"
    );
    let mut got = Vec::new();
    for chunk in ids.chunks(100) {
        got.extend(
            store
                .get_many(&scope.tenant, chunk)
                .await
                .expect("get_many"),
        );
    }
    assert_eq!(
        got.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids,
        "every id is readable"
    );
}

/// 8 concurrent updates all expecting version 1: exactly one succeeds, the others conflict, and the stored memory
/// is the winner's (version 2).
pub async fn concurrent_updates_one_wins(store: &dyn MemoryStore) {
    let scope = fresh_scope();
    let t = scope.tenant.clone();
    let m = put(store, NewMemory::new(scope.clone(), "contended")).await;
    let updates = (0..8).map(|i| {
        let t = t.clone();
        async move {
            let r = store
                .update(
                    &t,
                    m.id,
                    Update::default()
                        .content(format!("writer {i} won"))
                        .expect_version(1),
                )
                .await;
            (i, r)
        }
    });
    let results = join_all(updates).await;
    let mut winners = Vec::new();
    for (i, r) in results {
        match r {
            Ok(u) => winners.push(u),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Conflict, "writer {i} lost with: {e}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one update of version 1 wins, got {}",
        winners.len()
    );
    let stored = store.get(&t, m.id).await.expect("get");
    assert_eq!(stored.version, 2);
    assert_eq!(
        stored, winners[0],
        "the winner's update is the stored state"
    );
}
