//! Redis-store benchmarks, against the server named by `MEMLANE_TEST_REDIS_URL` (`scripts/services/redis.sh start`):
//! `get` by id side by side with a raw `HGETALL` of the same hash through the redis crate (same kind of connection,
//! a `ConnectionManager`), and a batch `add` of 100 (one script: one round trip).
//!
//! `cargo bench -p memlane --features redis --bench redis` runs criterion on each, then prints p50/p95/p99 of 5,000
//! interleaved `get`/`HGETALL` pairs (and their p50 ratio) and of 300 batch adds. Keys go under the prefix
//! `memlanebench`; the bench forgets its tenant at the end.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use memlane::redis::{RedisConfig, RedisStore};
use memlane::{AddOptions, MemoryId, MemoryStore, NewMemory, Scope};
use redis::aio::ConnectionManager;

const TENANT: &str = "bench";

fn url() -> Option<String> {
    std::env::var("MEMLANE_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
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

struct Setup {
    store: RedisStore,
    raw: ConnectionManager,
    ids: Vec<MemoryId>,
    keys: Vec<String>,
    scope: Scope,
}

async fn setup(url: &str) -> Setup {
    let mut config = RedisConfig::from_url(url).expect("URL");
    config.prefix = "memlanebench".into();
    config.timeout = Duration::from_secs(60);
    let store = RedisStore::open(config).await.expect("open");
    let scope = Scope::tenant(TENANT).with_user("u1");
    store
        .forget(&Scope::tenant(TENANT))
        .await
        .expect("forget leftovers");
    let mut ids = Vec::new();
    for start in (0..10_000).step_by(1000) {
        let batch = (start..start + 1000).map(|i| memory(&scope, i)).collect();
        let added = store
            .add(batch, AddOptions { dedup: Some(false) })
            .await
            .expect("load");
        ids.extend(added.into_iter().map(|a| a.memory.id));
    }
    let keys = ids.iter().map(|id| store.memory_key(TENANT, *id)).collect();
    let client = redis::Client::open(url).expect("client");
    let raw = ConnectionManager::new(client)
        .await
        .expect("raw connection");
    Setup {
        store,
        raw,
        ids,
        keys,
        scope,
    }
}

async fn hgetall(raw: &mut ConnectionManager, key: &str) -> HashMap<String, Vec<u8>> {
    redis::cmd("HGETALL")
        .arg(key)
        .query_async(raw)
        .await
        .expect("HGETALL")
}

fn bench(c: &mut Criterion) {
    let Some(url) = url() else { return };
    let rt = runtime();
    let s = rt.block_on(setup(&url));
    let mut group = c.benchmark_group("redis get (10k memories)");
    let mut i = 0;
    group.bench_function("memlane get", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 7919) % s.ids.len();
            let (store, id) = (&s.store, s.ids[i]);
            async move { store.get(TENANT, id).await.expect("get") }
        })
    });
    let mut j = 0;
    group.bench_function("raw HGETALL", |b| {
        b.to_async(&rt).iter(|| {
            j = (j + 7919) % s.keys.len();
            let (mut raw, key) = (s.raw.clone(), s.keys[j].clone());
            async move { hgetall(&mut raw, &key).await }
        })
    });
    group.finish();
    let mut n = 0;
    c.bench_function("redis add batch of 100", |b| {
        b.to_async(&rt).iter(|| {
            let batch: Vec<NewMemory> = (0..100).map(|k| memory(&s.scope, n * 100 + k)).collect();
            n += 1;
            let store = &s.store;
            async move {
                store
                    .add(batch, AddOptions { dedup: Some(false) })
                    .await
                    .expect("add")
            }
        })
    });
    rt.block_on(s.store.forget(&Scope::tenant(TENANT)))
        .expect("forget");
}

fn p(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * q) as usize]
}

fn percentiles(name: &str, samples: &mut [Duration]) -> Duration {
    let (p50, p95, p99) = (p(samples, 0.5), p(samples, 0.95), p(samples, 0.99));
    println!("{name:<40} p50 {p50:>10.1?}  p95 {p95:>10.1?}  p99 {p99:>10.1?}");
    p50
}

fn report(url: &str) {
    let rt = runtime();
    rt.block_on(async {
        let mut s = setup(url).await;
        let (mut get, mut raw) = (Vec::new(), Vec::new());
        for k in 0..5000 {
            let i = (k * 7919) % s.ids.len();
            let t = Instant::now();
            s.store.get(TENANT, s.ids[i]).await.expect("get");
            get.push(t.elapsed());
            let t = Instant::now();
            hgetall(&mut s.raw, &s.keys[i]).await;
            raw.push(t.elapsed());
        }
        let g = percentiles("memlane get (10k memories)", &mut get);
        let r = percentiles("raw HGETALL of the same hash", &mut raw);
        println!(
            "get / raw HGETALL, p50: {:.2}x",
            g.as_secs_f64() / r.as_secs_f64()
        );
        let mut add = Vec::new();
        for n in 0..300 {
            let batch: Vec<NewMemory> = (0..100).map(|k| memory(&s.scope, n * 100 + k)).collect();
            let t = Instant::now();
            s.store
                .add(batch, AddOptions { dedup: Some(false) })
                .await
                .expect("add");
            add.push(t.elapsed());
        }
        percentiles("add batch of 100 (one script)", &mut add);
        s.store
            .forget(&Scope::tenant(TENANT))
            .await
            .expect("forget");
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = bench
}

fn main() {
    let Some(url) = url() else {
        println!(
            "skipped: MEMLANE_TEST_REDIS_URL is not set (scripts/services/redis.sh start sets it)"
        );
        return;
    };
    benches();
    Criterion::default().configure_from_args().final_summary();
    report(&url);
}
