//! Search latency at 10k memories in one scope, through the public API with all-MiniLM-L6-v2: hybrid (query
//! embedding included, the goal is p95 <= 15 ms), semantic, keyword, the query embedding alone, and hybrid and
//! semantic with the query vector given (the store's own part).
//!
//! `cargo bench -p memlane-eval --bench search` loads 10,000 synthetic conversation turns (200 sessions of 50
//! turns, so session context is exercised) into an embedded store behind an `EmbeddingLayer`, then times 1,000
//! searches of each kind and prints p50/p95/p99. Needs the model in memlane's model cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use memlane::layers::EmbeddingLayer;
use memlane::{
    AddOptions, Embedder, MemoryStore, NewMemory, Scope, SearchMode, SearchQuery, Timestamp,
};
use memlane_embed::MiniLm;

const MEMORIES: usize = 10_000;
const SESSION: usize = 50;
const RUNS: usize = 1_000;

/// English-like words, so the model sees ordinary tokens.
const WORDS: &[&str] = &[
    "the",
    "trip",
    "to",
    "a",
    "lake",
    "painting",
    "with",
    "kids",
    "camping",
    "last",
    "week",
    "my",
    "new",
    "job",
    "at",
    "bakery",
    "guitar",
    "lessons",
    "weekend",
    "sister",
    "birthday",
    "party",
    "garden",
    "tomatoes",
    "book",
    "club",
    "hiking",
    "mountains",
    "dog",
    "park",
    "rainy",
    "day",
    "movie",
    "night",
    "concert",
    "tickets",
    "recipe",
    "pasta",
    "soccer",
    "game",
    "team",
    "won",
    "school",
    "project",
    "science",
    "museum",
    "visit",
    "grandma",
    "beach",
    "sunset",
    "photos",
    "workshop",
    "pottery",
    "class",
    "volunteer",
    "shelter",
    "adoption",
    "interview",
    "marathon",
    "training",
    "coffee",
    "friends",
    "road",
    "city",
    "festival",
    "music",
    "piano",
    "lesson",
    "vacation",
    "flight",
];

/// A deterministic pseudo-random generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as usize
    }
    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[self.next() % WORDS.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn percentiles(name: &str, mut s: Vec<Duration>) {
    s.sort();
    let p = |q: f64| s[((s.len() as f64 - 1.0) * q) as usize];
    println!(
        "{name:<44} p50 {:>9.2?}  p95 {:>9.2?}  p99 {:>9.2?}",
        p(0.5),
        p(0.95),
        p(0.99)
    );
}

async fn run() -> memlane::Result<()> {
    let model: Arc<dyn Embedder> = Arc::new(MiniLm::load_default()?);
    let dir = tempfile::tempdir().map_err(|e| memlane::Error::invalid("tempdir", e.to_string()))?;
    let url = format!(
        "embedded://{}?sync=normal&embedder=none",
        dir.path().display()
    );
    let store = EmbeddingLayer::new(memlane::open(&url).await?, model.clone());
    let scope = Scope::tenant("bench").with_user("u1");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t = Instant::now();
    for start in (0..MEMORIES).step_by(500) {
        let batch: Vec<NewMemory> = (start..start + 500)
            .map(|i| {
                let n = 8 + rng.next() % 16;
                let mut m = NewMemory::new(
                    scope.clone().with_session(format!("s{}", i / SESSION)),
                    format!("speaker {}: {}", i % 2, rng.words(n)),
                );
                m.created_at = Some(Timestamp::from_millis(
                    1_700_000_000_000 + i as i64 * 60_000,
                ));
                m
            })
            .collect();
        store.add(batch, AddOptions { dedup: Some(false) }).await?;
    }
    println!("loaded {MEMORIES} memories in {:.1?}", t.elapsed());
    let queries: Vec<String> = (0..RUNS)
        .map(|_| {
            let n = 4 + rng.next() % 6;
            rng.words(n)
        })
        .collect();
    let mut emb = Vec::new();
    let mut vectors = Vec::new();
    for q in &queries {
        let t = Instant::now();
        let v = model.embed(&[q])?;
        emb.push(t.elapsed());
        vectors.extend(v);
    }
    percentiles("query embedding alone", emb);
    for (mode, name) in [
        (SearchMode::Hybrid, "hybrid top 10, query vector given"),
        (SearchMode::Semantic, "semantic top 10, query vector given"),
    ] {
        let mut s = Vec::new();
        for (q, v) in queries.iter().zip(&vectors) {
            let mut query = SearchQuery::new(scope.clone(), q.clone())
                .mode(mode)
                .limit(10);
            query.embedding = Some(memlane::Embedding {
                model: model.model().to_owned(),
                vector: v.clone(),
            });
            let t = Instant::now();
            store.search(&query).await?;
            s.push(t.elapsed());
        }
        percentiles(&format!("{name} ({MEMORIES} in scope)"), s);
    }
    for (mode, name) in [
        (SearchMode::Hybrid, "hybrid top 10, embedding included"),
        (SearchMode::Semantic, "semantic top 10, embedding included"),
        (SearchMode::Keyword, "keyword top 10"),
    ] {
        let mut s = Vec::new();
        for q in &queries {
            let query = SearchQuery::new(scope.clone(), q.clone())
                .mode(mode)
                .limit(10);
            let t = Instant::now();
            store.search(&query).await?;
            s.push(t.elapsed());
        }
        percentiles(&format!("{name} ({MEMORIES} in scope)"), s);
    }
    Ok(())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = rt.block_on(run()) {
        eprintln!("search bench: {e}");
        std::process::exit(1);
    }
}
