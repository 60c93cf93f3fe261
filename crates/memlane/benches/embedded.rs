//! Embedded-store benchmarks: `get` by id, a durable batch `add` of 100 (and the same without fsync, to tell the
//! disk's flush from the rest), and keyword search over 100k memories.
//!
//! `cargo bench -p memlane --bench embedded` runs criterion on each, then prints p50/p95/p99 from timed calls of
//! each (criterion reports means and medians; the goals are percentiles). A filter argument runs only the cases
//! whose name contains it, in both parts: `cargo bench -p memlane --bench embedded -- get`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use memlane::embedded::{EmbeddedConfig, EmbeddedStore, SyncMode};
use memlane::{AddOptions, MemoryId, MemoryStore, NewMemory, Scope, SearchQuery};

/// A deterministic pseudo-random generator (xorshift), so every run loads the same texts.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A Zipf-like word index in `0..n`: small indexes are much more frequent, as in text.
    fn zipf(&mut self, n: u64) -> u64 {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64).powf(u) - 1.0) as u64
    }
}

fn word(i: u64) -> String {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ber", "dan", "gol", "hur", "pim", "qua",
        "wen", "zor",
    ];
    let mut s = String::new();
    let mut i = i + 1;
    while i > 0 {
        s.push_str(SYL[(i % 16) as usize]);
        i /= 16;
    }
    s
}

fn sentence(rng: &mut Rng) -> String {
    let n = 6 + rng.next() % 14;
    (0..n)
        .map(|_| word(rng.zipf(20_000)))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn loaded(n: usize) -> (tempfile::TempDir, EmbeddedStore, Vec<MemoryId>, Scope) {
    loaded_with(n, SyncMode::Full).await
}

async fn loaded_with(
    n: usize,
    sync: SyncMode,
) -> (tempfile::TempDir, EmbeddedStore, Vec<MemoryId>, Scope) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = EmbeddedConfig::new(dir.path());
    config.sync = sync;
    let store = EmbeddedStore::open(config).await.expect("open");
    let scope = Scope::tenant("bench").with_user("u1");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(1000) {
        let batch: Vec<NewMemory> = (start..(start + 1000).min(n))
            .map(|i| {
                NewMemory::new(scope.clone(), format!("{} {i}", sentence(&mut rng)))
                    .meta("n", i as u64)
            })
            .collect();
        let added = store
            .add(batch, AddOptions { dedup: Some(false) })
            .await
            .expect("load");
        ids.extend(added.into_iter().map(|a| a.memory.id));
    }
    (dir, store, ids, scope)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The filter given on the command line (the first argument that is not an option), if any.
fn filter() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}

/// Whether the case `name` runs.
fn wants(name: &str) -> bool {
    filter().is_none_or(|f| name.contains(&f))
}

const GET: &str = "embedded/get (10k memories)";
const ADD: &str = "embedded/add batch of 100 (durable)";
const ADD_NORMAL: &str = "embedded/add batch of 100 (sync=normal)";
const KEYWORD: &str = "embedded/keyword search top 10 (100k memories)";

fn batch(scope: &Scope, rng: &mut Rng) -> Vec<NewMemory> {
    (0..100)
        .map(|_| NewMemory::new(scope.clone(), sentence(rng)))
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    if wants(GET) || wants(ADD) {
        let (_dir, store, ids, scope) = rt.block_on(loaded(10_000));
        let mut i = 0;
        c.bench_function(GET, |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7919) % ids.len();
                let id = ids[i];
                let store = &store;
                async move { store.get("bench", id).await.expect("get") }
            })
        });
        let mut rng = Rng(42);
        c.bench_function(ADD, |b| {
            b.to_async(&rt).iter(|| {
                let batch = batch(&scope, &mut rng);
                let store = &store;
                async move {
                    store
                        .add(batch, AddOptions { dedup: Some(false) })
                        .await
                        .expect("add")
                }
            })
        });
    }
    if wants(ADD_NORMAL) {
        let (_dir, store, _ids, scope) = rt.block_on(loaded_with(10_000, SyncMode::Normal));
        let mut rng = Rng(42);
        c.bench_function(ADD_NORMAL, |b| {
            b.to_async(&rt).iter(|| {
                let batch = batch(&scope, &mut rng);
                let store = &store;
                async move {
                    store
                        .add(batch, AddOptions { dedup: Some(false) })
                        .await
                        .expect("add")
                }
            })
        });
    }
    if wants(KEYWORD) {
        let (_dir, store, _ids, scope) = rt.block_on(loaded(100_000));
        let mut rng = Rng(7);
        c.bench_function(KEYWORD, |b| {
            b.to_async(&rt).iter(|| {
                let q = format!("{} {}", word(rng.zipf(2000)), word(rng.zipf(2000)));
                let store = &store;
                let scope = scope.clone();
                async move {
                    store
                        .search(&SearchQuery::new(scope, q).limit(10))
                        .await
                        .expect("search")
                }
            })
        });
    }
}

fn percentiles(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    println!(
        "{name:<48} p50 {:>10.1?}  p95 {:>10.1?}  p99 {:>10.1?}",
        p(0.50),
        p(0.95),
        p(0.99)
    );
}

/// Times `n` batch adds of 100, one at a time.
async fn time_adds(store: &EmbeddedStore, scope: &Scope, n: usize) -> Vec<Duration> {
    let mut rng = Rng(42);
    let mut s = Vec::with_capacity(n);
    for _ in 0..n {
        let batch = batch(scope, &mut rng);
        let t = Instant::now();
        store
            .add(batch, AddOptions { dedup: Some(false) })
            .await
            .expect("add");
        s.push(t.elapsed());
    }
    s
}

fn report() {
    let rt = runtime();
    rt.block_on(async {
        if wants(GET) || wants(ADD) {
            let (_d, store, ids, scope) = loaded(10_000).await;
            let mut s = Vec::new();
            for k in 0..2000 {
                let id = ids[(k * 7919) % ids.len()];
                let t = Instant::now();
                store.get("bench", id).await.expect("get");
                s.push(t.elapsed());
            }
            percentiles("get (10k memories)", s);
            percentiles(
                "add batch of 100, sync=full",
                time_adds(&store, &scope, 300).await,
            );
        }
        if wants(ADD_NORMAL) {
            let (_d, store, _ids, scope) = loaded_with(10_000, SyncMode::Normal).await;
            percentiles(
                "add batch of 100, sync=normal",
                time_adds(&store, &scope, 300).await,
            );
        }
        if wants(KEYWORD) {
            let (_d, store, _ids, scope) = loaded(100_000).await;
            let mut rng = Rng(7);
            let mut s = Vec::new();
            for _ in 0..2000 {
                let q = format!("{} {}", word(rng.zipf(2000)), word(rng.zipf(2000)));
                let t = Instant::now();
                store
                    .search(&SearchQuery::new(scope.clone(), q).limit(10))
                    .await
                    .expect("search");
                s.push(t.elapsed());
            }
            percentiles("keyword search top 10 (100k memories)", s);
        }
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = bench
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
