//! Faults: a PostgreSQL server stopped and restarted under a running store. While it is down every operation fails
//! with `unavailable` (temporary) and quickly; once it is back they succeed again, on the same store, without
//! reopening; nothing acknowledged is lost. Callers hammering the store through the restart see only successes and
//! `unavailable` errors.
//!
//! The test makes its own throwaway cluster (initdb in a temporary directory, its own loopback port), run as the
//! `postgres` user when the test runs as root. It needs the server binaries: `MEMLANE_TEST_POSTGRES_BIN` (set by
//! scripts/services/postgres.sh) or /usr/lib/postgresql/*/bin; without them it is skipped (or fails with
//! `MEMLANE_REQUIRE_SERVICES=1`).
#![cfg(feature = "postgres")]

#[path = "postgres_common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use memlane::{ErrorKind, ListQuery, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchQuery};

fn bin_dir() -> Option<PathBuf> {
    if let Ok(b) = std::env::var("MEMLANE_TEST_POSTGRES_BIN") {
        return Some(PathBuf::from(b));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// A cluster of its own, stopped and removed when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    root: bool,
}

impl Cluster {
    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn new(bin: PathBuf) -> Cluster {
        let root = is_root();
        let dir = tempfile::tempdir().expect("tempdir");
        if root {
            let st = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(st.success(), "chown the cluster's directory to postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("addr")
            .port();
        let c = Cluster {
            bin,
            dir,
            port,
            root,
        };
        c.run(
            "initdb",
            &[
                "-D",
                &c.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        );
        c
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.path().display()
        );
        let log = self.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "-o",
                &opts,
                "start",
            ],
        );
    }

    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(if self.root { "runuser" } else { "true" })
            .args(if self.root {
                vec!["-u", "postgres", "--"]
            } else {
                vec![]
            })
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}

fn assert_unavailable<T: std::fmt::Debug>(r: memlane::Result<T>, what: &str) {
    match r {
        Ok(v) => panic!("{what} while the server is down: expected unavailable, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(
                e.kind(),
                ErrorKind::Unavailable,
                "{what} while the server is down: {e}"
            );
            assert!(e.is_temporary());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_are_unavailable_then_recovered_without_reopening() {
    let Some(bin) = bin_dir() else {
        assert!(
            std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "no PostgreSQL binaries and MEMLANE_REQUIRE_SERVICES=1"
        );
        eprintln!("skipping: no PostgreSQL server binaries (set MEMLANE_TEST_POSTGRES_BIN)");
        return;
    };
    let cluster = Cluster::new(bin);
    cluster.start();
    let url = format!(
        "{}?pool_size=8&connect_timeout=2s&pool_timeout=3s&purge_interval=off",
        cluster.url()
    );
    let store = Arc::new(memlane::open(&url).await.expect("open"));
    let scope = Scope::tenant("faults");
    let before = store
        .add_one(NewMemory::new(scope.clone(), "written before the restart"))
        .await
        .expect("add");

    // Callers running through the whole stop/start: only successes and `unavailable`.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, unavailable) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (store, scope, stop) = (store.clone(), scope.clone(), stop.clone());
            let (ok, unavailable) = (ok.clone(), unavailable.clone());
            tokio::spawn(async move {
                let (mut i, mut acked) = (0, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let r = store
                        .add_one(NewMemory::new(
                            scope.clone(),
                            format!("worker {w} write {i}"),
                        ))
                        .await;
                    match r {
                        Ok(m) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            acked.push(m.id);
                            // An acknowledged write is there.
                            match store.get(&scope.tenant, m.id).await {
                                Ok(got) => assert_eq!(got, m),
                                Err(e) => assert_eq!(e.kind(), ErrorKind::Unavailable, "get: {e}"),
                            }
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::Unavailable, "worker {w}: {e}");
                            unavailable.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                acked
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    tokio::task::block_in_place(|| cluster.stop());
    for (what, r) in [
        ("get", store.get("faults", before.id).await.map(|_| ())),
        (
            "add",
            store
                .add_one(NewMemory::new(scope.clone(), "while down"))
                .await
                .map(|_| ()),
        ),
        (
            "list",
            store.list(&ListQuery::new(scope.clone())).await.map(|_| ()),
        ),
        (
            "search",
            store
                .search(&SearchQuery::new(scope.clone(), "restart"))
                .await
                .map(|_| ()),
        ),
        ("count", store.count(&scope, None).await.map(|_| ())),
        ("health", store.health().await),
    ] {
        let started = Instant::now();
        assert_unavailable(r, what);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what} failed slowly"
        );
    }
    let started = Instant::now();
    assert_unavailable(store.health().await, "health");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "a down server is reported within the timeouts"
    );

    tokio::task::block_in_place(|| cluster.start());
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = store.health().await {
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
        assert!(
            Instant::now() < deadline,
            "the store recovers once the server is back: {e}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Back: the same store works again, and nothing acknowledged was lost.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in workers {
        acked.extend(
            w.await
                .expect("a worker saw only successes and unavailable"),
        );
    }
    assert_eq!(
        store
            .get("faults", before.id)
            .await
            .expect("get after the restart"),
        before
    );
    let after = store
        .add_one(NewMemory::new(scope.clone(), "written after the restart"))
        .await
        .expect("add");
    let all = store.list_all(&scope, None).await.expect("list");
    for chunk in acked.chunks(1000) {
        let got = store.get_many("faults", chunk).await.expect("get_many");
        assert_eq!(got.len(), chunk.len(), "every acknowledged write is stored");
    }
    // A write refused as unavailable may or may not have committed (the reply was lost); nothing else is there.
    let (n, refused) = (
        ok.load(Ordering::Relaxed),
        unavailable.load(Ordering::Relaxed),
    );
    assert!(
        (n + 2..=n + 3 + refused).contains(&all.len()),
        "{} stored, {n} acknowledged",
        all.len()
    );
    assert!(all.iter().any(|m| m.id == after.id));
    assert!(
        unavailable.load(Ordering::Relaxed) > 0,
        "the workers saw the outage"
    );
    eprintln!(
        "through the restart: {} writes acknowledged, {} refused as unavailable",
        ok.load(Ordering::Relaxed),
        unavailable.load(Ordering::Relaxed)
    );
}
