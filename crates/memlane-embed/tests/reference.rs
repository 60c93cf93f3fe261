//! all-MiniLM-L6-v2 against sentence-transformers' own vectors of the same model
//! (`shared/data/minilm-reference.json`): cosine similarity >= 0.9999 for every text, one at a time and as one
//! batch.
//!
//! The model is found through `MEMLANE_MODEL_DIR` or the default directory; when it is missing these tests fail
//! and say how to fetch it. The reference file is found through `MEMLANE_SHARED_DIR`, else the `shared/` directory
//! next to the repository.

use std::path::PathBuf;
use std::sync::OnceLock;

use memlane_core::Embedder;
use memlane_embed::{default_model_dir, MiniLm, DIMENSION, MODEL_NAME};
use serde::Deserialize;

const MIN_COSINE: f64 = 0.9999;

#[derive(Deserialize)]
struct Reference {
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    text: String,
    embedding: Vec<f32>,
}

fn shared_dir() -> PathBuf {
    match std::env::var_os("MEMLANE_SHARED_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
    }
}

fn reference() -> Reference {
    let path = shared_dir().join("data/minilm-reference.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} (set MEMLANE_SHARED_DIR): {e}",
            path.display()
        )
    });
    let reference: Reference =
        serde_json::from_slice(&bytes).expect("minilm-reference.json parses");
    assert_eq!(reference.items.len(), 16, "the reference has 16 texts");
    reference
}

fn model() -> &'static MiniLm {
    static MODEL: OnceLock<MiniLm> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = default_model_dir();
        MiniLm::load(&dir).unwrap_or_else(|e| {
            panic!(
                "cannot load {MODEL_NAME} from {}: {e}\nfetch it first: scripts/fetch-model.sh {}",
                dir.display(),
                dir.display()
            )
        })
    })
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// Each text embedded on its own, in order.
fn embed_each(model: &MiniLm, texts: &[&str]) -> Vec<Vec<f32>> {
    texts
        .iter()
        .map(|t| model.embed_one(t).expect("embed"))
        .collect()
}

fn check(label: &str, items: &[Item], got: &[Vec<f32>]) {
    assert_eq!(got.len(), items.len());
    let mut worst = f64::INFINITY;
    let mut failures = Vec::new();
    for (item, v) in items.iter().zip(got) {
        assert_eq!(v.len(), DIMENSION);
        let norm: f64 = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "{label}: vector not normalized ({norm})"
        );
        let c = cosine(v, &item.embedding);
        worst = worst.min(c);
        if c < MIN_COSINE {
            failures.push(format!(
                "{c:.6} for {:?}",
                item.text.chars().take(60).collect::<String>()
            ));
        }
    }
    eprintln!(
        "{label}: minimum cosine {worst:.9} over {} texts",
        items.len()
    );
    assert!(
        failures.is_empty(),
        "{label}: cosine below {MIN_COSINE}: {failures:#?}"
    );
}

#[test]
fn matches_sentence_transformers_one_at_a_time() {
    let reference = reference();
    let model = model();
    let got: Vec<Vec<f32>> = reference
        .items
        .iter()
        .map(|item| model.embed_one(&item.text).expect("embed"))
        .collect();
    check("one at a time", &reference.items, &got);
}

#[test]
fn matches_sentence_transformers_as_one_batch() {
    let reference = reference();
    let model = model();
    let texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    let got = model.embed(&texts).expect("embed");
    check("one batch", &reference.items, &got);
}

#[test]
fn thread_counts_and_callers_inside_or_outside_the_pool_agree() {
    // Outside any pool, a pass hops once onto the global pool; inside one it runs where it is; a one-thread pool
    // runs every step on its thread. All must give the reference vectors, and the same ones.
    let reference = reference();
    let model = model();
    let texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    let one_at_a_time = || embed_each(model, &texts);
    let outside = one_at_a_time();
    check("outside the pool", &reference.items, &outside);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        for (label, got) in [
            ("one at a time", pool.install(one_at_a_time)),
            (
                "one batch",
                pool.install(|| model.embed(&texts).expect("embed")),
            ),
        ] {
            check(
                &format!("{threads} threads, {label}"),
                &reference.items,
                &got,
            );
            for (a, b) in got.iter().zip(&outside) {
                assert!(cosine(a, b) > 0.999_999, "{threads} threads, {label}");
            }
        }
    }
}

#[test]
fn batch_order_and_duplicates_do_not_change_vectors() {
    let reference = reference();
    let model = model();
    let mut texts: Vec<&str> = reference
        .items
        .iter()
        .rev()
        .map(|i| i.text.as_str())
        .collect();
    texts.push(&reference.items[0].text);
    let got = model.embed(&texts).expect("embed");
    let single = model.embed_one(&reference.items[0].text).expect("embed");
    let n = reference.items.len();
    assert!(cosine(&got[n - 1], &single) > 0.99999);
    assert!(cosine(&got[n], &single) > 0.99999);
}

#[test]
fn reports_name_dimension_and_truncates() {
    let model = model();
    assert_eq!(model.model(), "all-MiniLM-L6-v2");
    assert_eq!(model.dimension(), 384);
    assert!(model.embed(&[]).expect("empty batch").is_empty());
    let long = "memory ".repeat(1000);
    assert_eq!(model.token_count(&long).expect("tokens"), 256);
    assert_eq!(model.token_count("").expect("tokens"), 2);
    let v = model.embed(&["", &long]).expect("embed");
    assert_eq!(v.len(), 2);
}

#[test]
fn similar_texts_are_closer() {
    let model = model();
    let v = model
        .embed(&[
            "The user likes dark mode.",
            "The user prefers a dark theme in the editor.",
            "Quarterly revenue grew by twelve percent.",
        ])
        .expect("embed");
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.2);
}

#[test]
fn fetching_again_is_a_no_op() {
    // The model is present (model() loaded it), so the built-in fetch script only verifies it.
    let _ = model();
    memlane_embed::fetch_model(&default_model_dir())
        .expect("fetch-model.sh verifies the present model");
}

#[test]
fn large_batches_are_split_and_concurrent_calls_agree() {
    let reference = reference();
    let model = model();
    // 9 texts of 256 tokens and the 16 reference texts: more than one forward pass of at most 2048 tokens.
    let long = "memory systems remember what agents learn ".repeat(60);
    let mut texts: Vec<&str> = vec![long.as_str(); 9];
    texts.extend(reference.items.iter().map(|i| i.text.as_str()));
    let alone = model.embed_one(&long).expect("embed");
    let expected: Vec<Vec<f32>> = model
        .embed(
            &reference
                .items
                .iter()
                .map(|i| i.text.as_str())
                .collect::<Vec<_>>(),
        )
        .expect("embed");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| model.embed(&texts).expect("embed")))
            .collect();
        for h in handles {
            let got = h.join().expect("thread");
            assert_eq!(got.len(), texts.len());
            for v in &got[..9] {
                assert!(cosine(v, &alone) > 0.99999);
            }
            for (v, e) in got[9..].iter().zip(&expected) {
                assert!(cosine(v, e) > 0.99999);
            }
        }
    });
}

#[test]
fn short_passes_from_many_threads_inside_and_outside_the_pool_agree() {
    // Short inputs run as one team pass whose helpers come from the pool: many at once, from plain threads and from
    // pool workers (more passes than workers, so helpers are often busy elsewhere), must all give the reference.
    let reference = reference();
    let model = model();
    let texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    let one_at_a_time = || embed_each(model, &texts);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..6).map(|_| s.spawn(one_at_a_time)).collect();
        for (i, h) in handles.into_iter().enumerate() {
            check(
                &format!("outside the pool, thread {i}"),
                &reference.items,
                &h.join().expect("thread"),
            );
        }
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    let inside: Vec<Vec<Vec<f32>>> = pool.install(|| {
        use rayon::prelude::*;
        (0..6).into_par_iter().map(|_| one_at_a_time()).collect()
    });
    for got in &inside {
        check("inside a pool of 2", &reference.items, got);
    }
    // Several short texts in one call of under 160 tokens: one pass over packed sequences.
    let short: Vec<&Item> = reference
        .items
        .iter()
        .filter(|i| model.token_count(&i.text).expect("tokens") < 40)
        .collect();
    let mut batch: Vec<&Item> = Vec::new();
    let mut tokens = 0;
    for item in short {
        let n = model.token_count(&item.text).expect("tokens");
        if tokens + n < 160 {
            tokens += n;
            batch.push(item);
        }
    }
    assert!(batch.len() >= 3, "several short reference texts");
    let texts: Vec<&str> = batch.iter().map(|i| i.text.as_str()).collect();
    let got = pool.install(|| model.embed(&texts).expect("embed"));
    let items: Vec<Item> = batch
        .iter()
        .map(|i| Item {
            text: i.text.clone(),
            embedding: i.embedding.clone(),
        })
        .collect();
    check(
        &format!("{} short texts in one call", items.len()),
        &items,
        &got,
    );
}
