//! Semantic search on the vector store (`vector://`) side by side with the embedded store's exact search, on the
//! same memories: 384-d vectors (MiniLM's dimension) brought by the caller (`embedder=none`), random or clustered,
//! at 10k and 100k memories in one tenant.
//!
//! `cargo bench -p memlane --features vector --bench vector` runs criterion on top-10 search at 10k (both
//! stores), then for every size, data set and store prints p50/p95/p99 of 500 timed searches — the whole tenant,
//! and one user's tenth of it (a scope filter) — with recall@10 against the embedded store's exact answer.
//! `MEMLANE_BENCH_SIZES=10000` limits the sizes; a filter argument (e.g. `clustered`) runs only matching cases.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use memlane::embedded::{EmbeddedConfig, EmbeddedStore};
use memlane::vector::{VectorConfig, VectorStore};
use memlane::{
    AddOptions, Embedding, MemoryId, MemoryStore, NewMemory, Scope, SearchMode, SearchQuery,
};

const DIM: usize = 384;
const USERS: usize = 10;

/// A deterministic generator (xorshift) with Gaussian draws.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f32 {
        ((-2.0 * self.unit().ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()) as f32
    }
}

/// How the vectors are drawn.
#[derive(Clone, Copy, Debug)]
enum Data {
    /// Isotropic Gaussian: the hardest case for a graph index (no structure to exploit).
    Random,
    /// 200 Gaussian clusters (spread 0.5 around unit-variance centers): closer to what sentence embeddings look like.
    Clustered,
}

struct Vectors {
    data: Data,
    rng: Rng,
    centers: Vec<Vec<f32>>,
}

impl Vectors {
    fn new(data: Data, seed: u64) -> Self {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        let centers = (0..200)
            .map(|_| (0..DIM).map(|_| rng.gauss()).collect())
            .collect();
        Vectors { data, rng, centers }
    }
    fn next(&mut self) -> Vec<f32> {
        match self.data {
            Data::Random => (0..DIM).map(|_| self.rng.gauss()).collect(),
            Data::Clustered => {
                let c = (self.rng.next() % self.centers.len() as u64) as usize;
                let center = &self.centers[c];
                center.iter().map(|x| x + 0.5 * self.rng.gauss()).collect()
            }
        }
    }
}

fn emb(vector: Vec<f32>) -> Embedding {
    Embedding {
        model: "bench-384".into(),
        vector,
    }
}

/// Both stores holding the same `n` memories.
struct Loaded {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    vector: VectorStore,
    embedded: EmbeddedStore,
    queries: Vec<Vec<f32>>,
    build: Duration,
}

async fn load(n: usize, data: Data) -> Loaded {
    let (vd, ed) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let vector = VectorStore::open(VectorConfig::new(vd.path()))
        .await
        .expect("open vector");
    let embedded = EmbeddedStore::open(EmbeddedConfig::new(ed.path()))
        .await
        .expect("open embedded");
    let mut gen = Vectors::new(data, 1);
    let mut build = Duration::ZERO;
    for start in (0..n).step_by(1000) {
        let batch: Vec<NewMemory> = (start..(start + 1000).min(n))
            .map(|i| {
                NewMemory::new(
                    Scope::tenant("bench").with_user(format!("u{}", i % USERS)),
                    format!("memory {i}"),
                )
                .embedding(emb(gen.next()))
            })
            .collect();
        let opts = AddOptions { dedup: Some(false) };
        let t = Instant::now();
        let added = vector.add(batch, opts).await.expect("add vector");
        build += t.elapsed();
        let same: Vec<NewMemory> = added
            .into_iter()
            .map(|a| NewMemory::restore(a.memory))
            .collect();
        embedded.add(same, opts).await.expect("add embedded");
    }
    let mut qgen = Vectors::new(data, 1);
    qgen.rng = Rng(0xDEAD_BEEF);
    let queries = (0..500).map(|_| qgen.next()).collect();
    Loaded {
        _dirs: (vd, ed),
        vector,
        embedded,
        queries,
        build,
    }
}

fn query(scope: Scope, v: &[f32]) -> SearchQuery {
    let mut q = SearchQuery::new(scope, "q")
        .mode(SearchMode::Semantic)
        .limit(10);
    q.embedding = Some(emb(v.to_vec()));
    q
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The filter given on the command line (the first argument that is not an option), if any.
fn wants(name: &str) -> bool {
    std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .is_none_or(|f| name.contains(&f))
}

fn sizes() -> Vec<usize> {
    std::env::var("MEMLANE_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let name = "semantic top 10, 10k random";
    if !wants(name) {
        return;
    }
    let l = rt.block_on(load(10_000, Data::Random));
    for (label, store) in [
        ("vector", &l.vector as &dyn MemoryStore),
        ("embedded", &l.embedded as &dyn MemoryStore),
    ] {
        let mut i = 0;
        c.bench_function(&format!("{label}/{name}"), |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 1) % l.queries.len();
                let q = query(Scope::tenant("bench"), &l.queries[i]);
                async move { store.search(&q).await.expect("search") }
            })
        });
    }
}

fn pct(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * q) as usize]
}

/// Times every query; returns the latencies and the ids found.
async fn run(
    store: &dyn MemoryStore,
    scope: &Scope,
    queries: &[Vec<f32>],
) -> (Vec<Duration>, Vec<Vec<MemoryId>>) {
    let mut times = Vec::with_capacity(queries.len());
    let mut found = Vec::with_capacity(queries.len());
    for v in queries {
        let q = query(scope.clone(), v);
        let t = Instant::now();
        let hits = store.search(&q).await.expect("search");
        times.push(t.elapsed());
        found.push(hits.into_iter().map(|h| h.memory.id).collect());
    }
    (times, found)
}

fn report() {
    let rt = runtime();
    rt.block_on(async {
        for n in sizes() {
            for data in [Data::Random, Data::Clustered] {
                let case = format!("{n} {data:?}").to_lowercase();
                if !wants(&case) {
                    continue;
                }
                let l = load(n, data).await;
                println!(
                    "== {n} memories, {data:?} 384-d vectors (vector store load incl. index build: {:.1?})",
                    l.build
                );
                for (what, scope) in [
                    ("whole tenant", Scope::tenant("bench")),
                    ("one user (10%)", Scope::tenant("bench").with_user("u3")),
                ] {
                    let (mut et, exact) = run(&l.embedded, &scope, &l.queries).await;
                    let (mut vt, got) = run(&l.vector, &scope, &l.queries).await;
                    let (mut hit, mut all) = (0usize, 0usize);
                    for (g, e) in got.iter().zip(&exact) {
                        let g: HashSet<_> = g.iter().collect();
                        all += e.len();
                        hit += e.iter().filter(|id| g.contains(id)).count();
                    }
                    let (v50, v95, v99) = (pct(&mut vt, 0.5), pct(&mut vt, 0.95), pct(&mut vt, 0.99));
                    let (e50, e95, e99) = (pct(&mut et, 0.5), pct(&mut et, 0.95), pct(&mut et, 0.99));
                    println!(
                        "  {what:<15} vector   p50 {v50:>9.1?} p95 {v95:>9.1?} p99 {v99:>9.1?}  recall@10 {:.3}",
                        hit as f64 / all.max(1) as f64
                    );
                    println!(
                        "  {what:<15} embedded p50 {e50:>9.1?} p95 {e95:>9.1?} p99 {e99:>9.1?}  (exact)  p50 ratio {:.1}x",
                        e50.as_secs_f64() / v50.as_secs_f64()
                    );
                }
            }
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
