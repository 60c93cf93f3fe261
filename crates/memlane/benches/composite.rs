//! Composite-store benchmarks against the servers named by `MEMLANE_TEST_REDIS_URL` and `MEMLANE_TEST_POSTGRES_URL`
//! (`scripts/services/*.sh start`):
//!
//! 1. `get` by id through a composite whose Redis cache is warm, side by side with `get` on the Redis backend alone
//!    (same server, same data shape): 5,000 interleaved pairs, p50/p95/p99 and the p50 ratio (goal <= 1.3x).
//! 2. Single `add` through the composite (record + outbox + replay into the cache before returning) beside `add` on
//!    the PostgreSQL backend alone: 1,000 interleaved pairs.
//! 3. Catch-up: 10,000 writes made while the cache tier follows nothing (write-through off, the background replayer
//!    idle), then the time for the tier to replay them all from the outbox.
//!
//! `cargo bench -p memlane --features composite,redis,postgres,memory --bench composite`. Each run uses fresh
//! tenants and tier names, and forgets its tenants at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use memlane::composite::{CompositeConfig, CompositeStore};
use memlane::{AddOptions, MemoryId, MemoryStore, NewMemory, Scope};

fn url(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|u| !u.is_empty())
}

fn with(url: &str, opts: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{opts}")
}

fn memory(scope: &Scope, i: usize) -> NewMemory {
    NewMemory::new(
        scope.clone(),
        format!("Memory {i}: the user prefers concise answers, dark mode, and meetings after 10am on weekdays."),
    )
    .meta("source", "chat")
    .meta("confidence", 0.9)
    .meta("turn", i as u64)
}

async fn load(store: &dyn MemoryStore, scope: &Scope, n: usize) -> Vec<MemoryId> {
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(500) {
        let batch = (start..(start + 500).min(n))
            .map(|i| memory(scope, i))
            .collect();
        let added = store
            .add(batch, AddOptions { dedup: Some(false) })
            .await
            .expect("load");
        ids.extend(added.into_iter().map(|a| a.memory.id));
    }
    ids
}

async fn composite(redis: &str, pg: &str, cache: &str, extra: &str) -> CompositeStore {
    let text = format!(
        "{extra}\n[tiers.{cache}]\nurl = {:?}\nrole = \"cache\"\n\
         [tiers.records]\nurl = {:?}\nrole = \"record\"\ntimeout_ms = 60000\n",
        with(redis, "prefix=memlanebench-composite&timeout_ms=60000"),
        with(pg, "outbox=true"),
    );
    CompositeStore::open(CompositeConfig::from_toml(&text).expect("config"))
        .await
        .expect("open the composite store")
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn show(name: &str, mut d: Vec<Duration>) -> Duration {
    d.sort();
    let (p50, p95, p99) = (pct(&d, 0.5), pct(&d, 0.95), pct(&d, 0.99));
    println!(
        "{name:<28} p50 {:>7.1} µs  p95 {:>7.1} µs  p99 {:>7.1} µs",
        p50.as_secs_f64() * 1e6,
        p95.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    p50
}

async fn get_side_by_side(redis: &str, pg: &str) {
    let run = memlane::new_id().simple().to_string();
    let alone: Arc<dyn MemoryStore> = memlane::open(&with(
        redis,
        "prefix=memlanebench-alone&timeout_ms=60000&embedder=none",
    ))
    .await
    .expect("open redis");
    let comp = composite(redis, pg, &format!("cache_{run}"), "").await;
    let scope = Scope::tenant(format!("bench-{run}")).with_user("u1");
    let a_ids = load(&*alone, &scope, 2_000).await;
    let c_ids = load(&comp, &scope, 2_000).await;
    let (mut a, mut c) = (Vec::new(), Vec::new());
    for i in 0..5_500 {
        let (ia, ic) = (
            a_ids[(i * 7919) % a_ids.len()],
            c_ids[(i * 7919) % c_ids.len()],
        );
        let t = Instant::now();
        alone.get(&scope.tenant, ia).await.expect("get");
        let ta = t.elapsed();
        let t = Instant::now();
        let got = comp.get_served(&scope.tenant, ic).await.expect("get");
        let tc = t.elapsed();
        assert_eq!(got.tier, format!("cache_{run}"), "served by the warm cache");
        if i >= 500 {
            a.push(ta);
            c.push(tc);
        }
    }
    let pa = show("redis get (alone)", a);
    let pc = show("composite get (warm cache)", c);
    println!(
        "composite / redis p50 ratio: {:.2}x (goal <= 1.3x)",
        pc.as_secs_f64() / pa.as_secs_f64()
    );
    alone
        .forget(&Scope::tenant(scope.tenant.clone()))
        .await
        .ok();
    comp.forget(&Scope::tenant(scope.tenant.clone())).await.ok();
}

async fn add_side_by_side(redis: &str, pg: &str) {
    let run = memlane::new_id().simple().to_string();
    let alone: Arc<dyn MemoryStore> = memlane::open(&with(pg, "embedder=none"))
        .await
        .expect("open postgres");
    let comp = composite(redis, pg, &format!("cache_{run}"), "").await;
    let scope = Scope::tenant(format!("bench-{run}")).with_user("u1");
    let (mut a, mut c) = (Vec::new(), Vec::new());
    for i in 0..1_100 {
        let t = Instant::now();
        alone
            .add(vec![memory(&scope, i)], AddOptions::default())
            .await
            .expect("add");
        let ta = t.elapsed();
        let t = Instant::now();
        comp.add(vec![memory(&scope, i + 1_000_000)], AddOptions::default())
            .await
            .expect("add");
        let tc = t.elapsed();
        if i >= 100 {
            a.push(ta);
            c.push(tc);
        }
    }
    let pa = show("postgres add (alone)", a);
    let pc = show("composite add (write-through)", c);
    println!(
        "composite / postgres add p50 ratio: {:.2}x (record + outbox + replay into the cache)",
        pc.as_secs_f64() / pa.as_secs_f64()
    );
    alone
        .forget(&Scope::tenant(scope.tenant.clone()))
        .await
        .ok();
    comp.forget(&Scope::tenant(scope.tenant.clone())).await.ok();
}

async fn catch_up_after_missed_writes(redis: &str, pg: &str) {
    let run = memlane::new_id().simple().to_string();
    let cache = format!("cache_{run}");
    // The tier follows nothing: no write-through, a background replayer that does not run during the test.
    let comp = composite(
        redis,
        pg,
        &cache,
        "[outbox]\nwrite_through = false\ninterval_ms = 3600000",
    )
    .await;
    let scope = Scope::tenant(format!("bench-{run}"));
    let t = Instant::now();
    load(&comp, &scope, 10_000).await;
    let wrote = t.elapsed();
    let lag = comp.outbox_lag().await.expect("lag")[&cache];
    let t = Instant::now();
    comp.catch_up().await;
    let took = t.elapsed();
    let after = comp.outbox_lag().await.expect("lag")[&cache];
    println!(
        "catch-up: {lag} missed writes replayed in {:.0} ms ({:.0} changes/s); lag after: {after} \
         (the 10,000 writes took {:.0} ms, in batches of 500)",
        took.as_secs_f64() * 1e3,
        lag as f64 / took.as_secs_f64(),
        wrote.as_secs_f64() * 1e3
    );
    let cached = comp
        .tier(&cache)
        .expect("tier")
        .count(&scope, None)
        .await
        .expect("count");
    assert_eq!(cached, 10_000, "the tier holds every write");
    comp.forget(&Scope::tenant(scope.tenant.clone())).await.ok();
}

fn main() {
    let (Some(redis), Some(pg)) = (
        url("MEMLANE_TEST_REDIS_URL"),
        url("MEMLANE_TEST_POSTGRES_URL"),
    ) else {
        eprintln!("skipped: MEMLANE_TEST_REDIS_URL and MEMLANE_TEST_POSTGRES_URL are needed (scripts/services/)");
        return;
    };
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        get_side_by_side(&redis, &pg).await;
        add_side_by_side(&redis, &pg).await;
        catch_up_after_missed_writes(&redis, &pg).await;
    });
}
