//! Faults under load, against real servers the test starts and stops itself (its own `redis-server` and its own
//! PostgreSQL cluster on free ports; the record of truth of the first two tests is the shared test database):
//!
//! - the cache (Redis) stopped and restarted under a steady mixed load: no read fails, no acknowledged write is
//!   lost; once it is back the outbox drains and the cache agrees with the record again (counts and checksums);
//! - the semantic tier (a PostgreSQL with pgvector) stopped mid-load: semantic searches fall back to keyword search
//!   and say so; nothing is lost; it catches up once back;
//! - the record of truth (PostgreSQL) stopped: writes fail as `unavailable` and are never acknowledged and lost;
//!   reads the cache can serve are served, marked degraded; once the cache is behind too, they are served marked
//!   stale.
#![cfg(all(feature = "composite", feature = "postgres", feature = "redis"))]

#[path = "own_servers.rs"]
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use memlane::composite::{CompositeConfig, CompositeStore};
use memlane::{
    Embedding, ErrorKind, ListQuery, MemoryId, MemoryStore, NewMemory, Scope, SearchMode,
    SearchQuery,
};

fn env_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            common::skip(&format!("{var} is not set"));
            None
        }
    }
}

fn with(url: &str, opts: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{opts}")
}

/// A name unique to this run (tier names are the outbox consumers' names in a shared database).
fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", memlane::new_id().simple())
}

async fn open(tiers: &[(&str, &str, String, u64)]) -> Arc<CompositeStore> {
    let mut text = String::from("[outbox]\ninterval_ms = 50\n");
    for (name, role, url, timeout) in tiers {
        text.push_str(&format!(
            "[tiers.{name}]\nurl = {url:?}\nrole = {role:?}\ntimeout_ms = {timeout}\n"
        ));
    }
    let config = CompositeConfig::from_toml(&text).expect("config");
    Arc::new(
        CompositeStore::open(config)
            .await
            .expect("open the composite store"),
    )
}

/// Waits until `tier` is up and has applied the whole outbox.
async fn wait_caught_up(store: &CompositeStore, tier: &str) -> Duration {
    let start = Instant::now();
    loop {
        let lag = store
            .outbox_lag()
            .await
            .ok()
            .and_then(|l| l.get(tier).copied());
        if store.fresh_tiers().iter().any(|t| t == tier) && lag == Some(0) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{tier} did not catch up (lag {lag:?})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn toy(v: [f32; 3]) -> Embedding {
    Embedding {
        model: "toy".into(),
        vector: v.to_vec(),
    }
}

/// What a load run saw.
#[derive(Default)]
struct Tally {
    reads: AtomicU64,
    failed_reads: AtomicU64,
    degraded_reads: AtomicU64,
    writes: AtomicU64,
    failed_writes: AtomicU64,
    acked: Mutex<Vec<MemoryId>>,
    errors: Mutex<Vec<String>>,
}

/// Adds, gets and lists in `tasks` loops until `stop`.
fn mixed_load(
    store: Arc<CompositeStore>,
    scope: Scope,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    tasks: usize,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..tasks)
        .map(|w| {
            let (store, scope, tally, stop) =
                (store.clone(), scope.clone(), tally.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let new = NewMemory::new(scope.clone(), format!("worker {w} note {i}"));
                    match store.add(vec![new], Default::default()).await {
                        Ok(a) => tally.acked.lock().unwrap().push(a[0].memory.id),
                        Err(e) => {
                            tally.failed_writes.fetch_add(1, Ordering::Relaxed);
                            tally.errors.lock().unwrap().push(format!("write: {e}"));
                        }
                    }
                    tally.writes.fetch_add(1, Ordering::Relaxed);
                    let id = {
                        let acked = tally.acked.lock().unwrap();
                        acked.get((i as usize * 7919) % acked.len().max(1)).copied()
                    };
                    if let Some(id) = id {
                        tally.reads.fetch_add(1, Ordering::Relaxed);
                        match store.get_served(&scope.tenant, id).await {
                            Ok(s) if s.is_degraded() => {
                                tally.degraded_reads.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tally.failed_reads.fetch_add(1, Ordering::Relaxed);
                                tally.errors.lock().unwrap().push(format!("get: {e}"));
                            }
                        }
                    }
                    tally.reads.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = store.list(&ListQuery::new(scope.clone()).limit(10)).await {
                        tally.failed_reads.fetch_add(1, Ordering::Relaxed);
                        tally.errors.lock().unwrap().push(format!("list: {e}"));
                    }
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cache_stopped_and_restarted_under_load() {
    let Some(pg) = env_url("MEMLANE_TEST_POSTGRES_URL") else {
        return;
    };
    let Some(mut redis) = common::Redis::start() else {
        return;
    };
    let cache = unique("cache");
    let store = open(&[
        (&cache, "cache", redis.url("timeout_ms=200"), 500),
        ("records", "record", with(&pg, "outbox=true"), 10_000),
    ])
    .await;
    assert!(
        store.fresh_tiers().contains(&cache),
        "the cache is up at start"
    );
    let scope = Scope::tenant(unique("t")).with_user("alice");
    let (tally, stop) = (Arc::new(Tally::default()), Arc::new(AtomicBool::new(false)));
    let load = mixed_load(store.clone(), scope.clone(), tally.clone(), stop.clone(), 4);

    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.stop();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !store.fresh_tiers().contains(&cache),
        "reads skip the stopped cache"
    );
    let writes_while_down = tally.writes.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        tally.writes.load(Ordering::Relaxed) > writes_while_down,
        "writes go on while the cache is down"
    );
    redis.resume();
    let took = wait_caught_up(&store, &cache).await;
    eprintln!(
        "the cache caught up {} ms after its restart",
        took.as_millis()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await.expect("load task");
    }
    wait_caught_up(&store, &cache).await;

    let errors = tally.errors.lock().unwrap().clone();
    assert_eq!(
        tally.failed_reads.load(Ordering::Relaxed),
        0,
        "failed reads: {errors:?}"
    );
    assert_eq!(
        tally.failed_writes.load(Ordering::Relaxed),
        0,
        "failed writes: {errors:?}"
    );
    assert!(
        tally.degraded_reads.load(Ordering::Relaxed) > 0,
        "reads during the outage are marked degraded"
    );
    let acked = tally.acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "a real load: {} writes acknowledged",
        acked.len()
    );
    let record = store.tier("records").expect("record");
    let cache_store = store.tier(&cache).expect("cache");
    for chunk in acked.chunks(500) {
        let got = record
            .get_many(&scope.tenant, chunk)
            .await
            .expect("record get_many");
        assert_eq!(
            got.len(),
            chunk.len(),
            "no acknowledged write is lost in the record"
        );
        let got = cache_store
            .get_many(&scope.tenant, chunk)
            .await
            .expect("cache get_many");
        assert_eq!(
            got.len(),
            chunk.len(),
            "the cache holds every acknowledged write again"
        );
    }
    let n = acked.len() as u64;
    assert_eq!(record.count(&scope, None).await.unwrap(), n);
    assert_eq!(cache_store.count(&scope, None).await.unwrap(), n);
    let report = store
        .repair(std::slice::from_ref(&scope.tenant), false)
        .await
        .expect("repair");
    assert!(report.is_clean(), "checksums agree: {report:?}");
    eprintln!(
        "reads {} (degraded {}), writes {}",
        tally.reads.load(Ordering::Relaxed),
        tally.degraded_reads.load(Ordering::Relaxed),
        tally.writes.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn semantic_tier_stopped_mid_load() {
    let Some(pg) = env_url("MEMLANE_TEST_POSTGRES_NOVECTOR_URL") else {
        return;
    };
    let Some(vectors) = common::Cluster::start() else {
        return;
    };
    let tier = unique("vectors");
    let store = open(&[
        (
            &tier,
            "semantic",
            vectors.url("pgvector=true&connect_timeout=1s&pool_timeout=1s"),
            2000,
        ),
        ("records", "record", with(&pg, "outbox=true"), 10_000),
    ])
    .await;
    assert!(store.capabilities().semantic_search && store.capabilities().keyword_search);
    let scope = Scope::tenant(unique("t"));
    let words = ["tea", "coffee", "juice"];
    let add = |i: usize| {
        let mut v = [0.0f32; 3];
        v[i % 3] = 1.0;
        NewMemory::new(
            scope.clone(),
            format!("Alice drinks {} number {i}", words[i % 3]),
        )
        .embedding(toy(v))
    };
    for i in 0..9 {
        store
            .add(vec![add(i)], Default::default())
            .await
            .expect("add");
    }
    let query = |i: usize| {
        let mut q = SearchQuery::new(scope.clone(), words[i % 3])
            .mode(SearchMode::Semantic)
            .limit(3);
        let mut v = [0.0f32; 3];
        v[i % 3] = 1.0;
        q.embedding = Some(toy(v));
        q
    };
    let up = store
        .search_served(&query(0))
        .await
        .expect("semantic search");
    assert_eq!(up.tier, tier);
    assert!(!up.is_degraded());
    assert!(up.value.iter().all(|s| s.memory.content.contains("tea")));

    vectors.stop();
    let mut fallbacks = 0;
    for i in 9..30 {
        store
            .add(vec![add(i)], Default::default())
            .await
            .expect("writes go on without the semantic tier");
        let s = store
            .search_served(&query(i))
            .await
            .expect("a semantic search while its tier is down");
        let d = s.degraded.as_ref().expect("marked degraded");
        assert_eq!(
            d.fallback_mode,
            Some(SearchMode::Keyword),
            "fell back to keyword search: {d}"
        );
        assert!(d.skipped.iter().any(|(t, _)| *t == tier));
        assert!(
            !s.value.is_empty()
                && s.value
                    .iter()
                    .all(|h| h.memory.content.contains(words[i % 3]))
        );
        fallbacks += 1;
    }
    let (_, report) = memlane::composite::observe(store.search(&query(1))).await;
    assert_eq!(
        report.and_then(|d| d.fallback_mode),
        Some(SearchMode::Keyword),
        "observe() reports it too"
    );

    vectors.resume();
    let took = wait_caught_up(&store, &tier).await;
    eprintln!(
        "{fallbacks} searches fell back; the semantic tier caught up {} ms after its restart",
        took.as_millis()
    );
    let back = store
        .search_served(&query(2))
        .await
        .expect("semantic search");
    assert_eq!(back.tier, tier);
    assert!(!back.is_degraded());
    let vec_store = store.tier(&tier).expect("tier");
    assert_eq!(
        vec_store.count(&scope, None).await.unwrap(),
        30,
        "nothing lost: it caught up"
    );
    let report = store
        .repair(std::slice::from_ref(&scope.tenant), false)
        .await
        .expect("repair");
    assert!(report.is_clean(), "checksums agree: {report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn record_stopped_writes_fail_reads_degrade() {
    let Some(pg) = common::Cluster::start() else {
        return;
    };
    let Some(mut redis) = common::Redis::start() else {
        return;
    };
    let store = open(&[
        ("cache", "cache", redis.url("timeout_ms=500"), 1000),
        (
            "records",
            "record",
            pg.url("outbox=true&pgvector=false&connect_timeout=1s&pool_timeout=1s"),
            3000,
        ),
    ])
    .await;
    let scope = Scope::tenant(unique("t"));
    let mut acked = Vec::new();
    for i in 0..20 {
        let a = store
            .add(
                vec![NewMemory::new(scope.clone(), format!("fact {i}"))],
                Default::default(),
            )
            .await
            .expect("add");
        acked.push(a[0].memory.clone());
    }
    // The cache is read only while it is caught up with the outbox, which cannot move while the record is down: on
    // a loaded machine one slow cache call marks it behind until the next replay, so wait for that first.
    wait_caught_up(&store, "cache").await;

    pg.stop();
    let start = Instant::now();
    let err = store
        .add(
            vec![NewMemory::new(
                scope.clone(),
                "written while the record is down",
            )],
            Default::default(),
        )
        .await
        .expect_err("a write without the record of truth");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(start.elapsed() < Duration::from_secs(5), "it fails fast");
    let err = store
        .delete(&scope.tenant, acked[0].id)
        .await
        .expect_err("a delete without the record");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    for m in &acked {
        let got = store
            .get_served(&scope.tenant, m.id)
            .await
            .expect("the cache serves gets");
        assert_eq!(got.value, *m);
        assert_eq!(got.tier, "cache");
        let d = got
            .degraded
            .expect("marked degraded: the record of truth is down");
        assert!(d.skipped.iter().any(|(t, _)| t == "records"), "{d}");
    }
    let page = store
        .list_served(&ListQuery::new(scope.clone()).limit(50))
        .await
        .expect("list from the cache");
    assert_eq!(
        (page.tier.as_str(), page.value.memories.len()),
        ("cache", 20)
    );
    assert!(page.is_degraded());

    // The cache falls behind while the record is down (one failed call marks it so, and only the record's outbox
    // can catch it up): it still answers, marked stale; a miss there is not a "not found".
    redis.stop();
    let err = store
        .get_served(&scope.tenant, acked[1].id)
        .await
        .expect_err("neither tier can answer");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    redis.resume();
    let start = Instant::now();
    let got = loop {
        match store.get_served(&scope.tenant, acked[1].id).await {
            Ok(got) => break got,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "the restarted cache serves again: {e}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(
        (got.value.clone(), got.tier.as_str()),
        (acked[1].clone(), "cache")
    );
    let d = got.degraded.expect("a stale answer is degraded");
    assert!(d.stale, "{d}");
    assert_eq!(d.to_string(), "tier=cache; skipped=records; stale");
    let page = store
        .list_served(&ListQuery::new(scope.clone()).limit(50))
        .await
        .expect("a stale list from the cache");
    assert_eq!(page.value.memories.len(), 20);
    assert!(page.degraded.as_ref().is_some_and(|d| d.stale));
    let many = store
        .get_many_served(&scope.tenant, &[acked[2].id, acked[3].id])
        .await
        .expect("a stale get_many from the cache");
    assert_eq!(many.value, vec![acked[2].clone(), acked[3].clone()]);
    assert!(many.degraded.as_ref().is_some_and(|d| d.stale));
    let err = store
        .get_served(&scope.tenant, memlane::new_id())
        .await
        .expect_err("the cache cannot say a memory does not exist");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");

    pg.resume();
    let start = Instant::now();
    let late = loop {
        match store
            .add(
                vec![NewMemory::new(scope.clone(), "after the restart")],
                Default::default(),
            )
            .await
        {
            Ok(a) => break a[0].memory.clone(),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "writes work again after the restart"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    wait_caught_up(&store, "cache").await;
    let record = store.tier("records").expect("record");
    assert_eq!(
        record.count(&scope, None).await.unwrap(),
        21,
        "the 20 acknowledged and the late one, nothing else"
    );
    let ids: Vec<MemoryId> = acked.iter().map(|m| m.id).chain([late.id]).collect();
    assert_eq!(
        record.get_many(&scope.tenant, &ids).await.unwrap().len(),
        21
    );
    let got = store.get_served(&scope.tenant, late.id).await.expect("get");
    assert!(!got.is_degraded(), "not degraded once the record is back");
    let report = store
        .repair(std::slice::from_ref(&scope.tenant), false)
        .await
        .expect("repair");
    assert!(report.is_clean(), "checksums agree: {report:?}");
}
