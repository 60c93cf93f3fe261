//! `kill -9` loses nothing acknowledged: a child process (this test binary, re-executed) inserts and removes,
//! printing an acknowledgement after each call returns; the parent SIGKILLs it mid-stream, reopens the directory
//! and checks every acknowledged write.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use memlane_vector::{FsyncPolicy, Index, IndexConfig};

const ENV: &str = "MEMLANE_VECTOR_CRASH_CHILD";
const DIM: usize = 16;

fn config() -> IndexConfig {
    // Small log limit: snapshots happen while the child runs, so the kill lands before and after some.
    IndexConfig {
        fsync: FsyncPolicy::Always,
        m: 8,
        snapshot_wal_bytes: 64 << 10,
        ..IndexConfig::new(DIM)
    }
}

fn vector(id: u64) -> Vec<f32> {
    common::clustered(1, DIM, 1, 1.0, id + 1)
}

fn child(dir: &str) -> ! {
    let index = Index::open(dir, config()).expect("child open");
    let mut out = std::io::stdout().lock();
    for id in 0u64.. {
        if id % 50 == 49 {
            let ids: Vec<u64> = (0..10).map(|j| 1_000_000 + id * 10 + j).collect();
            let rows: Vec<f32> = ids.iter().flat_map(|i| vector(*i)).collect();
            index.insert_batch(&ids, &rows).expect("batch");
            for i in ids {
                writeln!(out, "ack {i}").expect("stdout");
            }
        }
        index.insert(id, &vector(id)).expect("insert");
        writeln!(out, "ack {id}").expect("stdout");
        if id % 10 == 9 {
            index.remove(id - 5).expect("remove");
            writeln!(out, "del {}", id - 5).expect("stdout");
        }
        out.flush().expect("flush");
    }
    unreachable!()
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    if let Ok(dir) = std::env::var(ENV) {
        child(&dir);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("current exe");
    let mut proc = Command::new(exe)
        .args([
            "--exact",
            "kill_9_loses_no_acknowledged_write",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = proc.stdout.take().expect("stdout");
    let mut acked = std::collections::BTreeSet::new();
    let mut deleted = std::collections::BTreeSet::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(id) = line.strip_prefix("ack ") {
            acked.insert(id.parse::<u64>().expect("id"));
        } else if let Some(id) = line.strip_prefix("del ") {
            deleted.insert(id.parse::<u64>().expect("id"));
        }
        if acked.len() >= 1500 {
            break;
        }
    }
    proc.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    proc.wait().expect("reap");
    assert!(
        dir.path().join("snapshot.bin").exists(),
        "the child snapshotted at least once before the kill"
    );
    let index = Index::open(dir.path(), config()).expect("reopen after kill -9");
    for id in &acked {
        if deleted.contains(id) {
            assert!(!index.contains(*id), "acknowledged remove of {id} lost");
        } else {
            let got = index
                .get(*id)
                .unwrap_or_else(|| panic!("acknowledged insert of {id} lost"));
            let want = common::normalized(&vector(*id));
            assert!(
                got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5),
                "id {id} changed"
            );
        }
    }
}
