//! Embedded-store behaviour beyond the shared conformance suite: durability across `kill -9`, reopening,
//! the background purge, hostile strings, and the factory.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use memlane::embedded::{EmbeddedConfig, EmbeddedStore, DB_FILE};
use memlane::{
    ErrorKind, Filter, ListQuery, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchQuery,
};

const CHILD_ENV: &str = "MEMLANE_TEST_CHILD_DIR";

/// Not a test on its own: the child process of `acknowledged_writes_survive_kill_9`. It adds memories one at a
/// time and prints each id once `add` has returned, until it is killed.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = EmbeddedStore::open(EmbeddedConfig::new(&dir))
            .await
            .expect("open");
        for i in 0.. {
            let m = store
                .add_one(NewMemory::new(
                    Scope::tenant("t"),
                    format!("memory number {i}"),
                ))
                .await
                .expect("add");
            println!("ACK {}", m.id);
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
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(memlane::parse_id(id).expect("id"));
            if acked.len() == 200 {
                break;
            }
        }
    }
    // SIGKILL: no destructors, no flush.
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(
        acked.len(),
        200,
        "the child acknowledged fewer writes than expected"
    );

    let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("reopen");
    for chunk in acked.chunks(100) {
        let found = store.get_many("t", chunk).await.expect("get_many");
        assert_eq!(found.len(), chunk.len(), "an acknowledged write was lost");
    }
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scope = Scope::tenant("t").with_user("u");
    let id = {
        let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
            .await
            .expect("open");
        store
            .add_one(NewMemory::new(scope.clone(), "kept across restarts"))
            .await
            .expect("add")
            .id
    };
    let store = memlane::open(&format!("embedded://{}", dir.path().display()))
        .await
        .expect("reopen");
    assert_eq!(
        store.get("t", id).await.expect("get").content,
        "kept across restarts"
    );
    assert_eq!(store.count(&scope, None).await.expect("count"), 1);
}

fn raw_rows(dir: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("raw open");
    conn.query_row("SELECT count(*) FROM memories", [], |r| r.get(0))
        .expect("raw count")
}

#[tokio::test]
async fn expired_memories_are_deleted_in_the_background() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = EmbeddedConfig::new(dir.path());
    config.purge_interval = Duration::from_millis(100);
    let store = EmbeddedStore::open(config).await.expect("open");
    let scope = Scope::tenant("t");
    store
        .add_one(NewMemory::new(scope.clone(), "short-lived").ttl(Duration::from_millis(200)))
        .await
        .expect("add");
    store
        .add_one(NewMemory::new(scope.clone(), "long-lived"))
        .await
        .expect("add");
    assert_eq!(raw_rows(dir.path()), 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while raw_rows(dir.path()) != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the expired row was not purged within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.count(&scope, None).await.expect("count"), 1);
}

#[tokio::test]
async fn hostile_strings_are_data_not_sql() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(EmbeddedConfig::new(dir.path()))
        .await
        .expect("open");
    let evil = [
        "'; DROP TABLE memories; --",
        "\" OR 1=1 --",
        "a') OR ('1'='1",
        "NEAR(a b) AND * OR \"",
        "$.x') --",
        "%_\\",
    ];
    let scope = Scope::tenant("t'; DELETE FROM memories; --").with_user("u\" OR \"1\"=\"1");
    for (i, e) in evil.iter().enumerate() {
        let m = NewMemory::new(scope.clone(), format!("{e} number {i}"))
            .meta(*e, *e)
            .meta("k", *e);
        store.add_one(m).await.expect("add");
        let f =
            Filter::parse(&serde_json::json!({"field": "metadata.k", "eq": e})).expect("filter");
        let got = store
            .list(&ListQuery::new(scope.clone()).filter(f))
            .await
            .expect("list");
        assert_eq!(got.memories.len(), 1, "filter on {e:?}");
        let hits = store
            .search(&SearchQuery::new(scope.clone(), *e))
            .await
            .expect("search");
        assert!(hits.iter().all(|h| h.memory.scope == scope));
        let c =
            Filter::parse(&serde_json::json!({"field": "content", "contains": e})).expect("filter");
        assert_eq!(store.count(&scope, Some(&c)).await.expect("count"), 1);
    }
    assert_eq!(
        store.count(&scope, None).await.expect("count"),
        evil.len() as u64
    );
    assert_eq!(raw_rows(dir.path()), evil.len() as i64);
}

#[tokio::test]
async fn factory_reports_schemes_and_options() {
    let err = memlane::open("nosuch://x")
        .await
        .expect_err("unknown scheme");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("embedded"), "{err}");
    // `vector://` is a known scheme: without its feature, opening it names the feature.
    #[cfg(not(feature = "vector"))]
    {
        let err = memlane::open("vector://x").await.expect_err("feature off");
        assert!(err.to_string().contains("feature"), "{err}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let err = memlane::open(&format!("{}?bogus=1", dir.path().display()))
        .await
        .expect_err("bad option");
    assert!(err.to_string().contains("bogus"), "{err}");
    let store = memlane::open(&format!("{}?dedup=false&sync=normal", dir.path().display()))
        .await
        .expect("open");
    let s = Scope::tenant("t");
    store
        .add_one(NewMemory::new(s.clone(), "same"))
        .await
        .expect("add");
    store
        .add_one(NewMemory::new(s.clone(), "same"))
        .await
        .expect("add");
    assert_eq!(
        store.count(&s, None).await.expect("count"),
        2,
        "dedup=false keeps duplicates"
    );
}
