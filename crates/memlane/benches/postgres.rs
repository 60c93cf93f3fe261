//! Benchmarks of the PostgreSQL store, against `MEMLANE_TEST_POSTGRES_URL` (or `MEMLANE_BENCH_POSTGRES_URL`):
//!
//! - `get` by id through the store, beside a raw prepared `SELECT` by primary key of the same columns through the
//!   same driver on one connection (the floor: no pool checkout, no decoding into a `Memory`). Goal: p50 of `get`
//!   at most 1.5x the raw p50.
//! - keyword search of 2-3 words over 100,000 memories in one tenant (limit 10). Goal: p95 at most 10 ms.
//!
//! Besides criterion's estimates, each prints its own p50/p95/p99 from a few thousand timed calls.
//!
//! ```text
//! cargo bench -p memlane --features postgres --bench postgres
//! ```
//! The 100,000 memories are loaded once (tenant `bench-100k`) and kept for later runs.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use memlane::postgres::PostgresStore;
use memlane::{AddOptions, MemoryId, MemoryStore, NewMemory, Scope, SearchQuery};

const CORPUS: usize = 100_000;
const CORPUS_TENANT: &str = "bench-100k";

fn url() -> Option<String> {
    std::env::var("MEMLANE_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("MEMLANE_TEST_POSTGRES_URL"))
        .ok()
}

/// SplitMix64, so every run loads the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 3,000 pseudo-words of two or three syllables.
fn vocabulary() -> Vec<String> {
    const SYL: &[&str] = &[
        "ka", "lo", "mi", "ru", "ta", "ne", "so", "vi", "da", "pe", "gu", "ri", "zo", "ba", "fe",
        "hu", "ji", "mo", "na", "qu", "sa", "te", "wu", "xi", "yo",
    ];
    let mut rng = Rng(7);
    let mut words: Vec<String> = (0..6000)
        .map(|_| {
            (0..2 + rng.below(2))
                .map(|_| SYL[rng.below(SYL.len())])
                .collect::<String>()
                + "n"
        })
        .collect();
    words.sort();
    words.dedup();
    words.truncate(3000);
    words
}

/// Percentiles of timed calls.
fn report(name: &str, mut t: Vec<Duration>) -> Duration {
    t.sort();
    let p = |q: f64| t[((t.len() as f64 * q) as usize).min(t.len() - 1)];
    println!(
        "{name}: n={} p50={:?} p95={:?} p99={:?}",
        t.len(),
        p(0.50),
        p(0.95),
        p(0.99)
    );
    p(0.50)
}

async fn load_corpus(store: &PostgresStore, words: &[String]) {
    let scope = Scope::tenant(CORPUS_TENANT);
    let have = store.count(&scope, None).await.expect("count") as usize;
    if have >= CORPUS {
        return;
    }
    store.forget(&scope).await.expect("forget a partial corpus");
    let started = Instant::now();
    let mut rng = Rng(42);
    for _ in 0..CORPUS / 1000 {
        let batch = (0..1000)
            .map(|_| {
                let text: Vec<&str> = (0..8 + rng.below(8))
                    .map(|_| words[rng.below(words.len())].as_str())
                    .collect();
                NewMemory::new(
                    scope.clone().with_user(format!("user{}", rng.below(10))),
                    text.join(" "),
                )
            })
            .collect();
        store
            .add(batch, AddOptions { dedup: Some(false) })
            .await
            .expect("load");
    }
    let c = store.pool().get().await.expect("connection");
    c.batch_execute("ANALYZE memlane_memories")
        .await
        .expect("analyze");
    println!("loaded {CORPUS} memories in {:?}", started.elapsed());
}

fn benches(c: &mut Criterion) {
    let Some(url) = url() else {
        eprintln!("skipping the PostgreSQL benchmarks: set MEMLANE_TEST_POSTGRES_URL (scripts/services/postgres.sh)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = rt.block_on(async {
        let mut opts = memlane::OpenOptions::parse(&url).expect("url");
        let config = memlane::postgres::PostgresConfig::from_options(&mut opts).expect("config");
        PostgresStore::open(config).await.expect("open")
    });

    // get by id vs a raw prepared SELECT by primary key.
    let tenant = format!("bench-get-{}", memlane::new_id().simple());
    let ids: Vec<MemoryId> = rt.block_on(async {
        let scope = Scope::tenant(tenant.clone());
        let batch = (0..1000)
            .map(|i| {
                NewMemory::new(
                    scope.clone(),
                    format!("memory number {i} for the get benchmark"),
                )
                .meta("i", i)
            })
            .collect();
        let added = store
            .add(batch, AddOptions { dedup: Some(false) })
            .await
            .expect("add");
        added.into_iter().map(|a| a.memory.id).collect()
    });
    let raw_sql = "SELECT tenant, id, user_id, agent_id, session_id, kind, content, metadata, embedding_model, \
                   embedding, created_ms, updated_ms, expires_ms, version, content_hash FROM memlane_memories \
                   WHERE tenant = $1 AND id = $2";
    let (raw, stmt) = rt.block_on(async {
        let raw = store.pool().get().await.expect("a raw connection");
        let stmt = raw.prepare(raw_sql).await.expect("prepare");
        (raw, stmt)
    });
    let timed = |f: &dyn Fn(usize) -> Duration| (0..5000).map(f).collect::<Vec<_>>();
    let get_p50 = report(
        "get (memlane)",
        timed(&|i| {
            let t = Instant::now();
            rt.block_on(store.get(&tenant, ids[i % ids.len()]))
                .expect("get");
            t.elapsed()
        }),
    );
    let raw_p50 = report(
        "get (raw prepared SELECT)",
        timed(&|i| {
            let t = Instant::now();
            rt.block_on(raw.query_opt(&stmt, &[&tenant, &ids[i % ids.len()]]))
                .expect("select")
                .expect("row");
            t.elapsed()
        }),
    );
    println!(
        "get p50 ratio memlane/raw = {:.2} (goal <= 1.5)",
        get_p50.as_secs_f64() / raw_p50.as_secs_f64()
    );
    let mut g = c.benchmark_group("postgres_get");
    let mut i = 0;
    g.bench_function("memlane_get", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            store.get(&tenant, ids[i % ids.len()])
        })
    });
    let mut j = 0;
    g.bench_function("raw_prepared_select", |b| {
        b.to_async(&rt).iter(|| {
            j += 1;
            let id = ids[j % ids.len()];
            let (raw, stmt, tenant) = (&raw, &stmt, &tenant);
            async move { raw.query_opt(stmt, &[tenant, &id]).await }
        })
    });
    g.finish();
    drop(raw);
    rt.block_on(store.forget(&Scope::tenant(tenant.clone())))
        .expect("clean up");

    // Keyword search over 100k memories.
    let words = vocabulary();
    rt.block_on(load_corpus(&store, &words));
    let scope = Scope::tenant(CORPUS_TENANT);
    let mut rng = Rng(99);
    let queries: Vec<String> = (0..2000)
        .map(|_| {
            (0..2 + rng.below(2))
                .map(|_| words[rng.below(words.len())].clone())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let mut hits = 0;
    let times: Vec<Duration> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            hits += rt
                .block_on(store.search(&SearchQuery::new(scope.clone(), q.clone()).limit(10)))
                .expect("search")
                .len();
            t.elapsed()
        })
        .collect();
    report("keyword search over 100k (2-3 words, limit 10)", times);
    println!(
        "  average hits per query: {:.1}",
        hits as f64 / queries.len() as f64
    );
    let mut g = c.benchmark_group("postgres_search");
    let mut k = 0;
    g.bench_function("keyword_100k", |b| {
        b.to_async(&rt).iter(|| {
            k += 1;
            let q = SearchQuery::new(scope.clone(), queries[k % queries.len()].clone()).limit(10);
            let store = &store;
            async move { store.search(&q).await }
        })
    });
    g.finish();
}

criterion_group!(postgres, benches);
criterion_main!(postgres);
