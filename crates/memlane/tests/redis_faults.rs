//! Faults: a Redis server stopped (killed, or frozen with SIGSTOP) in the middle of a run. Every operation then
//! fails as `unavailable` within its timeout, never hangs; once the server is back, the same store works again
//! without being reopened, and what it acknowledged before (the server runs with `appendfsync always`) is there.
//!
//! The test starts its own `redis-server` on a free port (so the shared servers are not disturbed). It needs the
//! `redis-server` program (`scripts/services/redis.sh start` installs it): without it the test is skipped, unless
//! `MEMLANE_REQUIRE_SERVICES=1`.
#![cfg(feature = "redis")]

use std::future::Future;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use memlane::{
    ErrorKind, ListQuery, MemoryStore, MemoryStoreExt, NewMemory, Result, Scope, Update,
};

const TIMEOUT_MS: u64 = 500;
/// What an operation may take beyond its timeout (scheduling on a busy machine).
const SLACK: Duration = Duration::from_millis(1500);

/// A `redis-server` child process, killed when dropped.
struct Server {
    child: Child,
}

impl Server {
    fn start(port: u16, dir: &Path) -> Server {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        Server { child }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig}");
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have_redis_server() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("redis-server is not installed and MEMLANE_REQUIRE_SERVICES=1: run scripts/services/redis.sh start");
        }
        eprintln!(
            "skipped: redis-server is not installed (scripts/services/redis.sh start installs it)"
        );
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn wait_healthy(store: &dyn MemoryStore) {
    let start = Instant::now();
    while store.health().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the store did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `op`, which must fail as unavailable within the timeout.
async fn fails_fast<T: std::fmt::Debug>(what: &str, op: impl Future<Output = Result<T>>) {
    let start = Instant::now();
    let r = op.await;
    let took = start.elapsed();
    match r {
        Ok(v) => panic!("{what}: expected unavailable, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unavailable, "{what}: {e}"),
    }
    assert!(
        took < Duration::from_millis(TIMEOUT_MS) + SLACK,
        "{what} took {took:?}, more than its timeout"
    );
}

/// Every operation of the store, against a server that is down. (Writes sent to a frozen server run when it
/// resumes: they go to a scope and an id of their own.)
async fn all_fail(store: &dyn MemoryStore, scope: &Scope, id: memlane::MemoryId) {
    let t = scope.tenant.as_str();
    fails_fast(
        "add",
        store.add_one(NewMemory::new(scope.clone(), "while down")),
    )
    .await;
    fails_fast("get", store.get(t, id)).await;
    fails_fast("get_many", store.get_many(t, &[id, memlane::new_id()])).await;
    fails_fast(
        "update",
        store.update(t, id, Update::default().content("x")),
    )
    .await;
    fails_fast("delete", store.delete(t, id)).await;
    fails_fast("list", store.list(&ListQuery::new(scope.clone()))).await;
    fails_fast("count", store.count(scope, None)).await;
    fails_fast("forget", store.forget(scope)).await;
    fails_fast("health", store.health()).await;
    fails_fast("purge_expired", store.purge_expired()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_stopped_mid_run() {
    if !have_redis_server() {
        return;
    }
    let dir = tempfile::tempdir().expect("a directory");
    let port = free_port();
    let server = Server::start(port, dir.path());
    let url = format!("redis://127.0.0.1:{port}?timeout_ms={TIMEOUT_MS}&purge_interval=1s");
    let start = Instant::now();
    let store = loop {
        match memlane::open(&url).await {
            Ok(s) => break s,
            Err(e) if start.elapsed() < Duration::from_secs(10) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("redis-server did not start: {e}"),
        }
    };
    let scope = Scope::tenant("faults").with_user("u");
    let kept = store
        .add_one(NewMemory::new(scope.clone(), "acknowledged"))
        .await
        .expect("add");

    // Frozen: connections stay open, nothing answers.
    let victim = Scope::tenant("faults").with_user("victim");
    server.signal("-STOP");
    all_fail(&*store, &victim, memlane::new_id()).await;
    server.signal("-CONT");
    wait_healthy(&*store).await;
    assert_eq!(
        store
            .get("faults", kept.id)
            .await
            .expect("get after SIGCONT"),
        kept
    );

    // Killed: connections are refused.
    server.stop();
    all_fail(&*store, &scope, kept.id).await;
    all_fail(&*store, &victim, memlane::new_id()).await;

    // Back on the same port, with its append-only file: the same store works again.
    let server = Server::start(port, dir.path());
    wait_healthy(&*store).await;
    assert_eq!(
        store
            .get("faults", kept.id)
            .await
            .expect("get after restart"),
        kept,
        "acknowledged writes survive"
    );
    let m = store
        .add_one(NewMemory::new(scope.clone(), "after restart"))
        .await
        .expect("add after restart");
    let u = store
        .update(
            "faults",
            m.id,
            Update::default().content("updated").expect_version(1),
        )
        .await
        .expect("update after restart (the scripts are loaded again)");
    assert_eq!(u.version, 2);
    assert_eq!(store.count(&scope, None).await.expect("count"), 2);
    assert_eq!(store.forget(&scope).await.expect("forget"), 2);
    drop(server);
}
