//! Faults: a PostgreSQL server stopped and restarted under a running store. While it is down every operation fails
//! with `unavailable` (temporary) and quickly; once it is back they succeed again, on the same store, without
//! reopening; nothing acknowledged is lost. Callers hammering the store through the restart see only successes and
//! `unavailable` errors.
//!
//! The test makes its own throwaway cluster (initdb in a temporary directory, its own loopback port), run as the
//! `postgres` user when the test runs as root. It needs the server binaries: `MEMLANE_TEST_POSTGRES_BIN` (set by
//! scripts/services/postgres.sh) or /usr/lib/postgresql/*/bin; without them it is skipped (or fails with
//! `MEMLANE_REQUIRE_SERVICES=1`).
#![cfg(feature = "postgres")]

#[path = "own_servers.rs"]
mod own;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use memlane::{ErrorKind, ListQuery, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchQuery};

fn assert_unavailable<T: std::fmt::Debug>(r: memlane::Result<T>, what: &str) {
    match r {
        Ok(v) => panic!("{what} while the server is down: expected unavailable, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(
                e.kind(),
                ErrorKind::Unavailable,
                "{what} while the server is down: {e}"
            );
            assert!(e.is_temporary());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_are_unavailable_then_recovered_without_reopening() {
    let Some(cluster) = own::Cluster::start() else {
        return;
    };
    let url = cluster.url("pool_size=8&connect_timeout=2s&pool_timeout=3s&purge_interval=off");
    let store = Arc::new(memlane::open(&url).await.expect("open"));
    let scope = Scope::tenant("faults");
    let before = store
        .add_one(NewMemory::new(scope.clone(), "written before the restart"))
        .await
        .expect("add");

    // Callers running through the whole stop/start: only successes and `unavailable`.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, unavailable) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (store, scope, stop) = (store.clone(), scope.clone(), stop.clone());
            let (ok, unavailable) = (ok.clone(), unavailable.clone());
            tokio::spawn(async move {
                let (mut i, mut acked) = (0, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let r = store
                        .add_one(NewMemory::new(
                            scope.clone(),
                            format!("worker {w} write {i}"),
                        ))
                        .await;
                    match r {
                        Ok(m) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            acked.push(m.id);
                            // An acknowledged write is there.
                            match store.get(&scope.tenant, m.id).await {
                                Ok(got) => assert_eq!(got, m),
                                Err(e) => assert_eq!(e.kind(), ErrorKind::Unavailable, "get: {e}"),
                            }
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::Unavailable, "worker {w}: {e}");
                            unavailable.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                acked
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    tokio::task::block_in_place(|| cluster.stop());
    for (what, r) in [
        ("get", store.get("faults", before.id).await.map(|_| ())),
        (
            "add",
            store
                .add_one(NewMemory::new(scope.clone(), "while down"))
                .await
                .map(|_| ()),
        ),
        (
            "list",
            store.list(&ListQuery::new(scope.clone())).await.map(|_| ()),
        ),
        (
            "search",
            store
                .search(&SearchQuery::new(scope.clone(), "restart"))
                .await
                .map(|_| ()),
        ),
        ("count", store.count(&scope, None).await.map(|_| ())),
        ("health", store.health().await),
    ] {
        let started = Instant::now();
        assert_unavailable(r, what);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what} failed slowly"
        );
    }
    let started = Instant::now();
    assert_unavailable(store.health().await, "health");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "a down server is reported within the timeouts"
    );

    tokio::task::block_in_place(|| cluster.resume());
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = store.health().await {
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
        assert!(
            Instant::now() < deadline,
            "the store recovers once the server is back: {e}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Back: the same store works again, and nothing acknowledged was lost.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in workers {
        acked.extend(
            w.await
                .expect("a worker saw only successes and unavailable"),
        );
    }
    assert_eq!(
        store
            .get("faults", before.id)
            .await
            .expect("get after the restart"),
        before
    );
    let after = store
        .add_one(NewMemory::new(scope.clone(), "written after the restart"))
        .await
        .expect("add");
    let all = store.list_all(&scope, None).await.expect("list");
    for chunk in acked.chunks(1000) {
        let got = store.get_many("faults", chunk).await.expect("get_many");
        assert_eq!(got.len(), chunk.len(), "every acknowledged write is stored");
    }
    // A write refused as unavailable may or may not have committed (the reply was lost); nothing else is there.
    let (n, refused) = (
        ok.load(Ordering::Relaxed),
        unavailable.load(Ordering::Relaxed),
    );
    assert!(
        (n + 2..=n + 3 + refused).contains(&all.len()),
        "{} stored, {n} acknowledged",
        all.len()
    );
    assert!(all.iter().any(|m| m.id == after.id));
    assert!(
        unavailable.load(Ordering::Relaxed) > 0,
        "the workers saw the outage"
    );
    eprintln!(
        "through the restart: {} writes acknowledged, {} refused as unavailable",
        ok.load(Ordering::Relaxed),
        unavailable.load(Ordering::Relaxed)
    );
}
