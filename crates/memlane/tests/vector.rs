//! Vector-store behaviour beyond the shared conformance suite: durability across `kill -9`, reopening and the
//! index's repair from the payload, filtered search against the exact reference (the in-process store), TTL purge
//! out of the index, model pinning, several models in one store, and the factory's options.
#![cfg(feature = "vector")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use memlane::vector::{VectorConfig, VectorStore};
use memlane::{
    Embedding, ErrorKind, Filter, MemoryId, MemoryStore, MemoryStoreExt, NewMemory, Scope,
    SearchMode, SearchQuery, Update,
};

const CHILD_ENV: &str = "MEMLANE_TEST_VECTOR_CHILD_DIR";
const DIM: usize = 16;

/// A deterministic pseudo-random vector for `seed` (splitmix64), components in [-1, 1).
fn vector(seed: u64, dim: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..dim)
        .map(|_| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn emb(v: Vec<f32>) -> Embedding {
    Embedding {
        model: "test-model".into(),
        vector: v,
    }
}

fn semantic(scope: Scope, v: Vec<f32>) -> SearchQuery {
    let mut q = SearchQuery::new(scope, "q").mode(SearchMode::Semantic);
    q.embedding = Some(emb(v));
    q
}

async fn open(dir: &std::path::Path) -> VectorStore {
    VectorStore::open(VectorConfig::new(dir))
        .await
        .expect("open vector store")
}

/// Not a test on its own: the child process of `acknowledged_writes_survive_kill_9`. It adds memories with vectors
/// (and deletes every fifth one it added) and prints an acknowledgement after each call returns, until killed.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = open(std::path::Path::new(&dir)).await;
        for i in 0u64.. {
            let m = store
                .add_one(
                    NewMemory::new(Scope::tenant("t"), format!("memory number {i}"))
                        .embedding(emb(vector(i, DIM))),
                )
                .await
                .expect("add");
            println!("ACK {i} {}", m.id);
            if i % 5 == 4 {
                store.delete("t", m.id).await.expect("delete");
                println!("DEL {i} {}", m.id);
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut added: Vec<(u64, MemoryId)> = Vec::new();
    let mut deleted: Vec<MemoryId> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let mut parts = line.split(' ');
        let (Some(tag @ ("ACK" | "DEL")), Some(i), Some(id)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let i: u64 = i.parse().expect("seed");
        let id = memlane::parse_id(id).expect("id");
        match tag {
            "ACK" => added.push((i, id)),
            "DEL" => deleted.push(id),
            _ => continue,
        }
        if added.len() == 300 {
            break;
        }
    }
    // SIGKILL: no destructors, no snapshot, no flush.
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(
        added.len(),
        300,
        "the child acknowledged fewer writes than expected"
    );

    let store = open(dir.path()).await;
    for (i, id) in &added {
        let was_deleted = deleted.contains(id);
        match store.get("t", *id).await {
            Ok(m) => {
                assert!(!was_deleted, "an acknowledged delete was lost");
                assert_eq!(
                    m.embedding,
                    Some(emb(vector(*i, DIM))),
                    "the vector as given"
                );
                // The index holds it: its own vector finds it first, with score 1.
                let hits = store
                    .search(&semantic(Scope::tenant("t"), vector(*i, DIM)).limit(1))
                    .await
                    .expect("search");
                assert_eq!(hits[0].memory.id, *id, "memory {i} is in the index");
                assert!(hits[0].score > 0.999);
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                assert!(was_deleted, "an acknowledged write was lost: memory {i}")
            }
            Err(e) => panic!("get: {e}"),
        }
    }
    let live = store.count(&Scope::tenant("t"), None).await.expect("count");
    assert_eq!(
        store.indexed_vectors().expect("indexed"),
        live as usize,
        "after the repair the index holds exactly the payload's vectors"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reopen_loads_the_index_and_repairs_a_lost_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scope = Scope::tenant("t").with_user("u");
    let ids: Vec<MemoryId> = {
        let store = open(dir.path()).await;
        let batch = (0..500u64)
            .map(|i| NewMemory::new(scope.clone(), format!("m{i}")).embedding(emb(vector(i, DIM))))
            .collect();
        let added = store.add(batch, Default::default()).await.expect("add");
        added.into_iter().map(|a| a.memory.id).collect()
    };
    // A clean close snapshotted the index: reopening loads the graph.
    let snapshot = dir.path().join("index-1").join("snapshot.bin");
    assert!(snapshot.exists(), "a snapshot at close");
    {
        let store = open(dir.path()).await;
        assert_eq!(store.indexed_vectors().expect("indexed"), 500);
        let hits = store
            .search(&semantic(scope.clone(), vector(42, DIM)).limit(3))
            .await
            .expect("search");
        assert_eq!(hits[0].memory.id, ids[42]);
    }
    // Damage the snapshot: the index is set aside and rebuilt from the payload.
    let mut bytes = std::fs::read(&snapshot).expect("read snapshot");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&snapshot, &bytes).expect("write snapshot");
    {
        let store = open(dir.path()).await;
        assert!(dir.path().join("index-1.damaged").exists(), "set aside");
        assert_eq!(store.indexed_vectors().expect("indexed"), 500);
        let hits = store
            .search(&semantic(scope.clone(), vector(7, DIM)).limit(1))
            .await
            .expect("search");
        assert_eq!(hits[0].memory.id, ids[7], "found after the rebuild");
    }
    // Lose the whole index: the payload is the record of truth, and the next open rebuilds the index from it.
    std::fs::remove_dir_all(dir.path().join("index-1")).expect("remove index");
    let store = memlane::open(&format!("vector://{}?embedder=none", dir.path().display()))
        .await
        .expect("reopen by URL");
    for i in [0u64, 250, 499] {
        let hits = store
            .search(&semantic(scope.clone(), vector(i, DIM)).limit(1))
            .await
            .expect("search");
        assert_eq!(
            hits[0].memory.id, ids[i as usize],
            "memory {i} after repair"
        );
    }
}

/// Recall against the exact answer of the in-process store (brute force) on the same data, with selective and
/// broad filters: the planner's exact scan and its filtered walk both keep recall@10 >= 0.95.
#[tokio::test(flavor = "multi_thread")]
async fn filtered_search_matches_the_exact_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    // exact_scan_max=0 and a tiny fraction: tenants of 6,000 vectors are searched through the graph.
    let url = format!(
        "vector://{}?embedder=none&exact_scan_max=64&exact_scan_fraction=0.001",
        dir.path().display()
    );
    let store = memlane::open(&url).await.expect("open vector");
    let reference = memlane::open("memory://?embedder=none")
        .await
        .expect("open memory");
    let tenant = Scope::tenant("t");
    for chunk in (0..6000u64).collect::<Vec<_>>().chunks(500) {
        let batch: Vec<NewMemory> = chunk
            .iter()
            .map(|i| {
                NewMemory::new(
                    tenant.clone().with_user(format!("u{}", i % 3)),
                    format!("memory {i}"),
                )
                .meta("bucket", (i % 100) as i64)
                .embedding(emb(vector(*i, DIM)))
            })
            .collect();
        let opts = memlane::AddOptions { dedup: Some(false) };
        let a = store.add(batch.clone(), opts).await.expect("add");
        // Same ids in the reference, so results compare by id.
        let restored: Vec<NewMemory> = a
            .into_iter()
            .map(|a| NewMemory::restore(a.memory))
            .collect();
        reference.add(restored, opts).await.expect("add reference");
    }
    let cases: Vec<(&str, Scope, Option<Filter>)> = vec![
        ("whole tenant", tenant.clone(), None),
        ("one user (1/3)", tenant.clone().with_user("u1"), None),
        (
            "1% bucket",
            tenant.clone(),
            Some(
                Filter::parse(&serde_json::json!({"field": "metadata.bucket", "eq": 7}))
                    .expect("filter"),
            ),
        ),
        (
            "half the buckets",
            tenant.clone(),
            Some(
                Filter::parse(&serde_json::json!({"field": "metadata.bucket", "lt": 50}))
                    .expect("filter"),
            ),
        ),
    ];
    for (name, scope, filter) in cases {
        let (mut found, mut total) = (0usize, 0usize);
        for qi in 0..40u64 {
            let mut q = semantic(scope.clone(), vector(1_000_000 + qi, DIM)).limit(10);
            q.filter = filter.clone();
            let want = reference.search(&q).await.expect("reference search");
            let got = store.search(&q).await.expect("vector search");
            for h in &got {
                assert!(scope.matches(&h.memory.scope), "{name}: out of scope");
                if let Some(f) = &filter {
                    assert!(f.matches(&h.memory), "{name}: fails the filter");
                }
            }
            let got_ids: Vec<MemoryId> = got.iter().map(|h| h.memory.id).collect();
            total += want.len();
            found += want
                .iter()
                .filter(|h| got_ids.contains(&h.memory.id))
                .count();
            if let (Some(g), Some(w)) = (got.first(), want.first()) {
                assert!(
                    g.score <= w.score + 1e-4,
                    "{name}: no score above the exact best"
                );
            }
        }
        let recall = found as f64 / total as f64;
        assert!(recall >= 0.95, "{name}: recall@10 {recall:.3} < 0.95");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_replace_vectors_and_ttl_purge_empties_the_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    let scope = Scope::tenant("t");
    let m = store
        .add_one(NewMemory::new(scope.clone(), "moves").embedding(emb(vector(1, DIM))))
        .await
        .expect("add");
    let moved = store
        .update(
            "t",
            m.id,
            Update {
                embedding: Some(emb(vector(2, DIM))),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(moved.embedding, Some(emb(vector(2, DIM))));
    assert_eq!(
        store.indexed_vectors().expect("indexed"),
        1,
        "the old vector is gone"
    );
    let hits = store
        .search(&semantic(scope.clone(), vector(2, DIM)).limit(1))
        .await
        .expect("search");
    assert!(hits[0].score > 0.999, "the new vector is searched");
    // New content drops the embedding (until an embedder recomputes it): no vector, no semantic match.
    store
        .update("t", m.id, Update::default().content("moved away"))
        .await
        .expect("update content");
    assert_eq!(store.indexed_vectors().expect("indexed"), 0);

    let short = NewMemory::new(scope.clone(), "short-lived")
        .ttl(Duration::from_millis(300))
        .embedding(emb(vector(3, DIM)));
    store.add_one(short).await.expect("add");
    assert_eq!(store.indexed_vectors().expect("indexed"), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let hits = store
        .search(&semantic(scope.clone(), vector(3, DIM)))
        .await
        .expect("search");
    assert!(
        hits.iter().all(|h| h.memory.content != "short-lived"),
        "an expired memory is never returned"
    );
    assert_eq!(store.purge_expired().await.expect("purge"), 1);
    assert_eq!(
        store.indexed_vectors().expect("indexed"),
        0,
        "purged from the index"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn models_are_kept_apart_and_a_pinned_model_is_enforced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scope = Scope::tenant("t");
    {
        let store = open(dir.path()).await;
        let other = Embedding {
            model: "other-model".into(),
            vector: vector(1, DIM),
        };
        store
            .add_one(NewMemory::new(scope.clone(), "a").embedding(emb(vector(1, DIM))))
            .await
            .expect("add");
        store
            .add_one(NewMemory::new(scope.clone(), "b").embedding(other))
            .await
            .expect("add other model");
        // A zero vector is stored (and returned) but has no direction to search by.
        store
            .add_one(NewMemory::new(scope.clone(), "zero").embedding(emb(vec![0.0; DIM])))
            .await
            .expect("add zero vector");
        let hits = store
            .search(&semantic(scope.clone(), vector(1, DIM)))
            .await
            .expect("search");
        let contents: Vec<&str> = hits.iter().map(|h| h.memory.content.as_str()).collect();
        assert_eq!(
            contents,
            vec!["a"],
            "vectors of another model are never compared"
        );
    }
    let err = memlane::open(&format!(
        "vector://{}?embedder=none&embedding_model=third-model",
        dir.path().display()
    ))
    .await
    .expect_err("a store holding other models refuses a pinned one");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("re-index"), "{err}");

    let pinned_dir = tempfile::tempdir().expect("tempdir");
    let mut config = VectorConfig::new(pinned_dir.path());
    config.embedding_model = Some("test-model".into());
    let store = VectorStore::open(config).await.expect("open pinned");
    let other = Embedding {
        model: "other-model".into(),
        vector: vector(1, DIM),
    };
    let err = store
        .add_one(NewMemory::new(scope.clone(), "b").embedding(other))
        .await
        .expect_err("another model is refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("re-index"), "{err}");
}

#[tokio::test]
async fn factory_options() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = format!("vector://{}", dir.path().display());
    let store = memlane::open(&format!(
        "{base}?embedder=none&m=8&ef_construction=64&ef_search=32&sync=normal&dedup=false&purge_interval=1m"
    ))
    .await
    .expect("open with options");
    assert_eq!(store.name(), "vector");
    let caps = store.capabilities();
    assert!(caps.semantic_search && caps.ttl && caps.durable && caps.transactions);
    assert!(!caps.keyword_search && !caps.hybrid_search);
    drop(store);
    for (bad, why) in [
        ("vector://", "no directory"),
        (&format!("{base}?colour=blue") as &str, "unknown option"),
        (&format!("{base}?m=1") as &str, "m out of range"),
        (&format!("{base}?sync=sometimes") as &str, "bad sync"),
        (
            &format!("{base}?pq_train_size=1000") as &str,
            "pq_train_size alone",
        ),
    ] {
        let err = memlane::open(bad).await.expect_err(why);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{why}: {err}");
    }
}
