//! Durability: reopening (snapshot + log tail) gives back exactly the state before, torn log tails are ignored,
//! and a stored index refuses a configuration that contradicts it.

mod common;

use std::collections::BTreeMap;
use std::io::Write;

use common::{clustered, normalized};
use memlane_vector::{Compression, FsyncPolicy, Index, IndexConfig, SearchParams};
use proptest::prelude::*;

const DIM: usize = 8;

fn config() -> IndexConfig {
    IndexConfig {
        fsync: FsyncPolicy::Never,
        m: 6,
        snapshot_wal_bytes: 0,
        ..IndexConfig::new(DIM)
    }
}

fn assert_same(index: &Index, model: &BTreeMap<u64, Vec<f32>>) {
    assert_eq!(index.len(), model.len());
    for (id, v) in model {
        let got = index.get(*id).unwrap_or_else(|| panic!("id {id} lost"));
        let want = normalized(v);
        assert!(
            got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5),
            "id {id} changed"
        );
        let hit = index
            .search(
                v,
                1,
                &SearchParams {
                    ef: Some(64),
                    ..Default::default()
                },
            )
            .expect("search");
        assert!(
            (hit[0].1 - 1.0).abs() < 1e-4,
            "id {id} not found by its own vector"
        );
    }
}

#[derive(Debug, Clone)]
enum Step {
    Insert(u64, u64),
    Remove(u64),
    Snapshot,
    Compact,
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u64..30, 0u64..10_000).prop_map(|(id, seed)| Step::Insert(id, seed)),
        2 => (0u64..30).prop_map(Step::Remove),
        1 => Just(Step::Snapshot),
        1 => Just(Step::Compact),
        1 => Just(Step::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Any mix of writes, snapshots, compactions and reopenings: after a final reopen (snapshot + log replay) the
    /// index holds exactly what a plain map holds.
    #[test]
    fn replay_equals_state_before_closing(steps in proptest::collection::vec(step(), 1..60)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = Index::open(dir.path(), config()).expect("open");
        let mut model = BTreeMap::new();
        for s in steps {
            match s {
                Step::Insert(id, seed) => {
                    let v = clustered(1, DIM, 1, 1.0, seed);
                    index.insert(id, &v).expect("insert");
                    model.insert(id, v);
                }
                Step::Remove(id) => {
                    prop_assert_eq!(index.remove(id).expect("remove"), model.remove(&id).is_some());
                }
                Step::Snapshot => index.snapshot().expect("snapshot"),
                Step::Compact => index.compact().expect("compact"),
                Step::Reopen => {
                    drop(index);
                    index = Index::open(dir.path(), config()).expect("reopen");
                }
            }
        }
        drop(index);
        let index = Index::open(dir.path(), config()).expect("reopen");
        assert_same(&index, &model);
    }
}

#[test]
fn reopen_loads_the_snapshot_and_replays_the_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = clustered(600, DIM, 5, 0.3, 1);
    let mut model = BTreeMap::new();
    {
        let index = Index::open(dir.path(), config()).expect("open");
        for (i, v) in data.chunks_exact(DIM).enumerate().take(500) {
            index.insert(i as u64, v).expect("insert");
            model.insert(i as u64, v.to_vec());
        }
        index.snapshot().expect("snapshot");
        for (i, v) in data.chunks_exact(DIM).enumerate().skip(500) {
            index.insert(i as u64, v).expect("insert");
            model.insert(i as u64, v.to_vec());
        }
        for id in [3u64, 510] {
            index.remove(id).expect("remove");
            model.remove(&id);
        }
    }
    let wal = std::fs::metadata(dir.path().join("wal.log"))
        .expect("wal")
        .len();
    assert!(
        wal > 0 && wal < 100 * (DIM as u64 * 4 + 40),
        "the log holds only the tail after the snapshot"
    );
    let index = Index::open(dir.path(), config()).expect("reopen");
    assert_same(&index, &model);
}

#[test]
fn torn_log_tail_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let index = Index::open(dir.path(), config()).expect("open");
        index.insert(1, &[1.0; DIM]).expect("insert");
        index
            .insert(2, &[2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
            .expect("insert");
    }
    let path = dir.path().join("wal.log");
    let len = std::fs::metadata(&path).expect("meta").len();
    // A crash in the middle of the third record: half a frame, then garbage.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open wal");
    f.write_all(&[60, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9])
        .expect("write");
    drop(f);
    let index = Index::open(dir.path(), config()).expect("reopen");
    assert_eq!(index.len(), 2);
    assert_eq!(
        std::fs::metadata(&path).expect("meta").len(),
        len,
        "the torn tail was cut off"
    );
    index.insert(3, &[0.5; DIM]).expect("append after the cut");
    drop(index);
    let index = Index::open(dir.path(), config()).expect("reopen");
    assert!(index.contains(1) && index.contains(2) && index.contains(3));
}

#[test]
fn stored_shape_wins_over_a_contradicting_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = Index::open(dir.path(), config()).expect("open");
    index.insert(1, &[1.0; DIM]).expect("insert");
    index.snapshot().expect("snapshot");
    drop(index);
    let err = Index::open(dir.path(), IndexConfig { m: 12, ..config() }).expect_err("m differs");
    assert!(
        matches!(err, memlane_vector::Error::InvalidConfig(_)),
        "{err}"
    );
    let compressed = IndexConfig {
        compression: Compression::Pq {
            subspaces: 4,
            train_size: 256,
        },
        ..config()
    };
    assert!(Index::open(dir.path(), compressed).is_err());
    assert!(Index::open(dir.path(), config()).is_ok());
}

#[test]
fn corrupt_snapshot_is_an_error_not_garbage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = Index::open(dir.path(), config()).expect("open");
    index.insert(1, &[1.0; DIM]).expect("insert");
    index.snapshot().expect("snapshot");
    drop(index);
    let path = dir.path().join("snapshot.bin");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[40] ^= 0x55;
    std::fs::write(&path, bytes).expect("write");
    let err = Index::open(dir.path(), config()).expect_err("corrupt");
    assert!(
        matches!(err, memlane_vector::Error::Corrupt { .. }),
        "{err}"
    );
}
