//! Search quality: recall against brute force, deletes, filters (planner), min_score, compressed mode.

mod common;

use common::{brute_force, clustered, recall};
use memlane_vector::{Compression, Filter, FsyncPolicy, Index, IndexConfig, SearchParams};
use proptest::prelude::*;

const DIM: usize = 32;

fn config() -> IndexConfig {
    IndexConfig {
        fsync: FsyncPolicy::Never,
        m: 12,
        ef_construction: 80,
        ..IndexConfig::new(DIM)
    }
}

fn build(dir: &std::path::Path, n: usize, config: IndexConfig) -> (Index, Vec<(u64, Vec<f32>)>) {
    let data = clustered(n, DIM, 20, 0.4, 7);
    let index = Index::open(dir, config).expect("open");
    let ids: Vec<u64> = (0..n as u64).map(|i| i * 3 + 1).collect();
    index.insert_batch(&ids, &data).expect("insert");
    let rows = ids
        .iter()
        .zip(data.chunks_exact(DIM))
        .map(|(id, v)| (*id, v.to_vec()))
        .collect();
    (index, rows)
}

fn mean_recall(
    index: &Index,
    rows: &[(u64, Vec<f32>)],
    params: &SearchParams<'_>,
    keep: impl Fn(u64) -> bool,
) -> f64 {
    let queries = clustered(50, DIM, 20, 0.4, 99);
    let mut total = 0.0;
    for q in queries.chunks_exact(DIM) {
        let truth = brute_force(rows, q, 10, &keep);
        let found = index.search(q, 10, params).expect("search");
        assert!(
            found.iter().all(|(id, _)| keep(*id)),
            "a result failed the filter"
        );
        assert!(
            found.windows(2).all(|w| w[0].1 >= w[1].1),
            "results are sorted best first"
        );
        total += recall(&found, &truth);
    }
    total / 50.0
}

#[test]
fn recall_matches_brute_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (index, rows) = build(dir.path(), 4000, config());
    let r = mean_recall(
        &index,
        &rows,
        &SearchParams {
            ef: Some(128),
            ..Default::default()
        },
        |_| true,
    );
    assert!(r >= 0.95, "recall@10 {r}");
    let own = index
        .search(&rows[17].1, 1, &SearchParams::default())
        .expect("search");
    assert_eq!(own[0].0, rows[17].0);
    assert!(
        (own[0].1 - 1.0).abs() < 1e-4,
        "a vector's similarity to itself is 1"
    );
}

#[test]
fn filtered_recall_holds_at_one_and_ten_percent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (index, rows) = build(
        dir.path(),
        4000,
        IndexConfig {
            exact_scan_max: 0,
            ..config()
        },
    );
    for modulus in [100u64, 10, 2] {
        let keep = move |id: u64| id % modulus == 1;
        let params = SearchParams {
            filter: Filter::Predicate {
                keep: &keep,
                estimate: None,
            },
            ..Default::default()
        };
        let r = mean_recall(&index, &rows, &params, keep);
        assert!(r >= 0.95, "predicate 1/{modulus}: recall@10 {r}");
        let allowed: Vec<u64> = rows.iter().map(|r| r.0).filter(|id| keep(*id)).collect();
        let params = SearchParams {
            filter: Filter::AllowList(&allowed),
            ..Default::default()
        };
        let r = mean_recall(&index, &rows, &params, keep);
        assert!(r >= 0.95, "allow-list 1/{modulus}: recall@10 {r}");
    }
    let nothing = |_: u64| false;
    let params = SearchParams {
        filter: Filter::Predicate {
            keep: &nothing,
            estimate: None,
        },
        ..Default::default()
    };
    assert!(index
        .search(&rows[0].1, 10, &params)
        .expect("search")
        .is_empty());
}

#[test]
fn filtered_walk_alone_holds_recall_at_one_percent() {
    // Planner thresholds at zero: even a 1 % filter takes the (widened) graph walk instead of the exact scan.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = IndexConfig {
        exact_scan_max: 0,
        exact_scan_fraction: 0.0,
        ..config()
    };
    let (index, rows) = build(dir.path(), 4000, config);
    let keep = |id: u64| id % 100 == 1;
    let params = SearchParams {
        filter: Filter::Predicate {
            keep: &keep,
            estimate: Some(40),
        },
        ..Default::default()
    };
    let r = mean_recall(&index, &rows, &params, keep);
    assert!(r >= 0.95, "filtered walk at 1 %: recall@10 {r}");
}

#[test]
fn min_score_cuts_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (index, rows) = build(dir.path(), 500, config());
    let params = SearchParams {
        min_score: Some(0.999),
        ..Default::default()
    };
    let found = index.search(&rows[3].1, 10, &params).expect("search");
    assert!(!found.is_empty() && found.iter().all(|(_, s)| *s >= 0.999));
    assert!(matches!(
        index.search(&[1.0; 3], 10, &SearchParams::default()),
        Err(memlane_vector::Error::DimensionMismatch {
            expected: DIM,
            actual: 3
        })
    ));
    assert!(
        index.insert(1, &[0.0; DIM]).is_err(),
        "a zero vector has no direction"
    );
    let huge = SearchParams {
        ef: Some(usize::MAX),
        ..Default::default()
    };
    let all = index.search(&rows[3].1, usize::MAX, &huge).expect("search");
    assert_eq!(all.len(), 500, "no overflow, no panic");
    assert!(index
        .search(&rows[3].1, 0, &SearchParams::default())
        .expect("search")
        .is_empty());
}

#[test]
fn compressed_mode_keeps_recall() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = IndexConfig {
        compression: Compression::Pq {
            subspaces: 8,
            train_size: 1000,
        },
        ..config()
    };
    let (index, rows) = build(dir.path(), 3000, config.clone());
    let r = mean_recall(
        &index,
        &rows,
        &SearchParams {
            ef: Some(128),
            ..Default::default()
        },
        |_| true,
    );
    assert!(r >= 0.95, "compressed recall@10 {r}");
    let usage = index.memory_usage();
    assert_eq!(usage.vectors, 0, "full vectors are mapped, not in RAM");
    assert!(usage.codes > 0);
    drop(index);
    let index = Index::open(dir.path(), config).expect("reopen");
    let r2 = mean_recall(
        &index,
        &rows,
        &SearchParams {
            ef: Some(128),
            ..Default::default()
        },
        |_| true,
    );
    assert!(r2 >= 0.95, "compressed recall@10 after reopen {r2}");
}

#[test]
fn compaction_drops_tombstones_and_keeps_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (index, mut rows) = build(dir.path(), 2000, config());
    for (id, _) in rows.iter().step_by(2) {
        assert!(index.remove(*id).expect("remove"));
    }
    rows = rows.into_iter().skip(1).step_by(2).collect();
    assert_eq!(index.tombstones(), 1000);
    index.compact().expect("compact");
    assert_eq!(index.tombstones(), 0);
    assert_eq!(index.len(), 1000);
    let r = mean_recall(
        &index,
        &rows,
        &SearchParams {
            ef: Some(128),
            ..Default::default()
        },
        |_| true,
    );
    assert!(r >= 0.95, "recall after compaction {r}");
}

#[test]
fn searches_run_during_inserts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = Index::open(dir.path(), config()).expect("open");
    let data = clustered(3000, DIM, 10, 0.3, 5);
    std::thread::scope(|s| {
        s.spawn(|| {
            for (i, v) in data.chunks_exact(DIM).enumerate() {
                index.insert(i as u64, v).expect("insert");
            }
        });
        s.spawn(|| {
            for i in 0..2000 {
                let q = &data[(i % 3000) * DIM..(i % 3000 + 1) * DIM];
                for (id, score) in index
                    .search(q, 5, &SearchParams::default())
                    .expect("search")
                {
                    assert!(id < 3000 && (-1.01..=1.01).contains(&score));
                }
            }
        });
    });
    assert_eq!(index.len(), 3000);
}

#[test]
fn duplicate_vectors_do_not_form_dead_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = Index::open(dir.path(), IndexConfig { m: 4, ..config() }).expect("open");
    let distinct = clustered(30, DIM, 30, 1.0, 3);
    for copy in 0..8u64 {
        for (i, v) in distinct.chunks_exact(DIM).enumerate() {
            index.insert(copy * 100 + i as u64, v).expect("insert");
        }
    }
    for (i, v) in distinct.chunks_exact(DIM).enumerate() {
        let found = index
            .search(
                v,
                8,
                &SearchParams {
                    ef: Some(64),
                    ..Default::default()
                },
            )
            .expect("search");
        let copies = found
            .iter()
            .filter(|(id, s)| id % 100 == i as u64 && *s > 0.9999)
            .count();
        assert_eq!(copies, 8, "vector {i}: {found:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever the sequence of inserts, replacements and removes, a search never returns a removed (or replaced)
    /// vector, and returns every live id when asked for at least as many as there are.
    #[test]
    fn deleted_ids_never_come_back(ops in proptest::collection::vec((0u64..40, any::<bool>(), 0u64..1000), 1..120)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = Index::open(dir.path(), IndexConfig { m: 4, ..config() }).expect("open");
        let mut live = std::collections::BTreeSet::new();
        for (id, insert, seed) in ops {
            if insert {
                index.insert(id, &clustered(1, DIM, 1, 1.0, seed)).expect("insert");
                live.insert(id);
            } else {
                prop_assert_eq!(index.remove(id).expect("remove"), live.remove(&id));
            }
        }
        prop_assert_eq!(index.len(), live.len());
        let q = clustered(1, DIM, 1, 1.0, 12345);
        let walked = index.search(&q, 5, &SearchParams { ef: Some(200), ..Default::default() }).expect("search");
        prop_assert!(walked.iter().all(|(id, _)| live.contains(id)), "a removed id came back: {:?}", walked);
        prop_assert_eq!(walked.len(), live.len().min(5));
        let found = index.search(&q, 100, &SearchParams::default()).expect("search");
        let found: std::collections::BTreeSet<u64> = found.into_iter().map(|f| f.0).collect();
        prop_assert_eq!(found, live);
    }
}
