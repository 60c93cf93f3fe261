//! Migration into PostgreSQL and its bulk add path (large batches without deduplication): idempotent by id,
//! conflicts fail the whole batch, expired rows are replaced, `tenants()` lists live tenants; and, ignored by
//! default, the embedded → PostgreSQL migration benchmark:
//!
//! ```sh
//! cargo test --release -p memlane --features postgres,embed --test migrate_postgres -- --ignored --nocapture
//! ```
//!
//! Needs `MEMLANE_TEST_POSTGRES_URL` (and `..._NOVECTOR_URL` for the benchmark); skipped with a message without
//! it (failing with `MEMLANE_REQUIRE_SERVICES=1`).
#![cfg(feature = "postgres")]

#[path = "postgres_common.rs"]
mod common;

use std::time::{Duration, Instant};

use memlane::migrate::{migrate, MigrateOptions, NoProgress};
use memlane::{
    AddOptions, Embedding, ErrorKind, MemoryStore, MemoryStoreExt, NewMemory, Scope, Timestamp,
};

fn tenant() -> String {
    format!("mig-{}", memlane::new_id().simple())
}

fn batch(tenant: &str, n: usize, dim: usize) -> Vec<NewMemory> {
    (0..n)
        .map(|i| {
            NewMemory::new(
                Scope::tenant(tenant).with_user(format!("u{}", i % 5)),
                format!("memory number {i}: the quick brown fox jumps over the lazy dog"),
            )
            .id(memlane::new_id())
            .meta("i", i as u64)
            .embedding(Embedding {
                model: "bench-model".into(),
                vector: (0..dim)
                    .map(|k| (((i * 31 + k * 17) % 97) as f32 - 48.0) / 97.0)
                    .collect(),
            })
        })
        .collect()
}

const NO_DEDUP: AddOptions = AddOptions { dedup: Some(false) };

#[tokio::test]
async fn bulk_add_is_idempotent_and_all_or_nothing() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let store = common::open(&url, "").await;
    let t = tenant();
    let first = batch(&t, 300, 4);
    let added = store.add(first.clone(), NO_DEDUP).await.expect("add");
    assert!(added.iter().all(|a| a.created));
    assert_eq!(
        added.iter().map(|a| a.memory.id).collect::<Vec<_>>(),
        first.iter().filter_map(|m| m.id).collect::<Vec<_>>(),
        "results are in the order of the batch"
    );
    // The same batch again, with 50 new ones: 300 existing, 50 created.
    let mut again = first.clone();
    again.extend(batch(&t, 50, 4));
    let added = store.add(again, NO_DEDUP).await.expect("re-add");
    assert_eq!(added.iter().filter(|a| a.created).count(), 50);
    assert_eq!(
        added[0].memory,
        store.get(&t, added[0].memory.id).await.expect("get")
    );
    assert_eq!(
        store.count(&Scope::tenant(&t), None).await.expect("count"),
        350
    );
    // One id reused for other content: a conflict, and nothing of the batch is stored.
    let mut bad = batch(&t, 40, 4);
    bad[39] = NewMemory {
        content: "other content".into(),
        ..first[0].clone()
    };
    let err = store.add(bad, NO_DEDUP).await.expect_err("conflict");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(
        store.count(&Scope::tenant(&t), None).await.expect("count"),
        350
    );
    // An expired row is replaced by a new memory with its id.
    let mut short = batch(&t, 20, 4);
    short[0].ttl = Some(Duration::from_millis(300));
    let id = short[0].id.expect("id");
    store.add(short, NO_DEDUP).await.expect("add expiring");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut back = batch(&t, 20, 4);
    back[0].id = Some(id);
    back[0].content = "reborn".into();
    let added = store.add(back, NO_DEDUP).await.expect("replace expired");
    assert!(added[0].created);
    assert_eq!(store.get(&t, id).await.expect("get").content, "reborn");
    // tenants() lists it while it has live memories.
    assert!(store.tenants().await.expect("tenants").contains(&t));
    store.forget(&Scope::tenant(&t)).await.expect("forget");
    assert!(!store.tenants().await.expect("tenants").contains(&t));
}

#[tokio::test]
async fn migrates_memory_to_postgres_keeping_every_field() {
    let Some(url) = common::url(common::VECTOR) else {
        return;
    };
    let to = common::open(&url, "").await;
    let from = memlane::open("memory://?embedder=none")
        .await
        .expect("memory");
    let t = tenant();
    let mut b = batch(&t, 2_500, 4);
    b[0].expires_at = Some(Timestamp::now().plus(Duration::from_secs(3600)));
    for chunk in b.chunks(1000) {
        from.add(chunk.to_vec(), NO_DEDUP).await.expect("fill");
    }
    let opts = MigrateOptions {
        tenants: vec![t.clone()],
        ..MigrateOptions::default()
    };
    let report = migrate(from.as_ref(), &to, &opts, &NoProgress)
        .await
        .expect("migrate");
    assert!(report.is_verified(), "{report:?}");
    assert_eq!(report.copied(), 2_500);
    let scope = Scope::tenant(&t);
    assert_eq!(
        from.list_all(&scope, None).await.expect("source"),
        to.list_all(&scope, None).await.expect("target")
    );
    to.forget(&scope).await.expect("clean up");
}

/// The figure of issue 10: embedded → PostgreSQL, without re-embedding (384-dimensional vectors travel), with and
/// without pgvector; and the re-embedding rate (MiniLM in the destination's embedding layer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture, in release"]
async fn benchmark_embedded_to_postgres() {
    let (Some(url), Some(novector)) = (common::url(common::VECTOR), common::url(common::NOVECTOR))
    else {
        return;
    };
    let n: usize = std::env::var("MEMLANE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = format!("{}?embedder=none&sync=normal", dir.path().display());
    let from = memlane::open(&src).await.expect("source");
    let t = tenant();
    let started = Instant::now();
    for chunk in 0..n.div_ceil(1000) {
        let size = 1000.min(n - chunk * 1000);
        from.add(batch(&t, size, 384), NO_DEDUP)
            .await
            .expect("fill");
    }
    eprintln!(
        "filled {n} memories in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The parts: reading the source alone, and writing prepared batches alone.
    let started = Instant::now();
    let all = from.list_all(&Scope::tenant(&t), None).await.expect("read");
    let read_s = started.elapsed().as_secs_f64();
    eprintln!(
        "reading the source alone: {:.0} memories/s",
        n as f64 / read_s
    );
    let to = common::open(&novector, "").await;
    let batches: Vec<Vec<NewMemory>> = all
        .chunks(1000)
        .map(|c| c.iter().cloned().map(NewMemory::restore).collect())
        .collect();
    let started = Instant::now();
    for b in batches {
        to.add(b, NO_DEDUP).await.expect("write");
    }
    let write_s = started.elapsed().as_secs_f64();
    eprintln!(
        "writing to postgres (no pgvector) alone, batches of 1000: {:.0} memories/s",
        n as f64 / write_s
    );
    to.forget(&Scope::tenant(&t)).await.expect("clean up");
    drop(all);
    let opts = MigrateOptions {
        tenants: vec![t.clone()],
        ..MigrateOptions::default()
    };
    for (label, url) in [
        ("postgres+pgvector", &url),
        ("postgres (no pgvector)", &novector),
    ] {
        let to = common::open(url, "").await;
        let report = migrate(from.as_ref(), &to, &opts, &NoProgress)
            .await
            .expect("migrate");
        assert!(report.is_verified());
        eprintln!(
            "embedded -> {label}: {n} memories with 384-d vectors in {:.2} s: {:.0} memories/s (verification {:.2} s)",
            report.copy_seconds,
            n as f64 / report.copy_seconds,
            report.verify_seconds
        );
        to.forget(&Scope::tenant(&t)).await.expect("clean up");
    }
    #[cfg(feature = "embed")]
    {
        let m = 2_000.min(n);
        let small = format!("{}?embedder=none", dir.path().join("small").display());
        let from = memlane::open(&small).await.expect("source");
        let mut b = batch(&t, m, 8);
        for x in &mut b {
            x.embedding = None;
        }
        for chunk in b.chunks(1000) {
            from.add(chunk.to_vec(), NO_DEDUP).await.expect("fill");
        }
        let sep = if novector.contains('?') { '&' } else { '?' };
        let target = memlane::migrate::open_target(&format!("{novector}{sep}embedder=minilm"))
            .await
            .expect("destination with MiniLM");
        let opts = MigrateOptions {
            tenants: vec![t.clone()],
            embeddings: target.policy(),
            ..MigrateOptions::default()
        };
        assert!(matches!(
            opts.embeddings,
            memlane::migrate::EmbeddingPolicy::Model { .. }
        ));
        let report = migrate(from.as_ref(), target.store.as_ref(), &opts, &NoProgress)
            .await
            .expect("migrate with re-embedding");
        assert!(report.is_verified());
        eprintln!(
            "embedded -> postgres re-embedding with all-MiniLM-L6-v2: {m} memories in {:.2} s: {:.0} memories/s",
            report.copy_seconds,
            m as f64 / report.copy_seconds
        );
        target
            .store
            .forget(&Scope::tenant(&t))
            .await
            .expect("clean up");
    }
}
