//! The Redis store's own behaviour beyond the conformance suite: the documented key layout, index entries of
//! expired memories purged (lazily and by `purge_expired`), prefixes that share a server, hostile names,
//! multi-tenant batches, URLs, timeouts against a server that never answers.
//!
//! Needs `MEMLANE_TEST_REDIS_URL` (and `MEMLANE_TEST_REDIS_CLUSTER_URL` for the cluster test); see
//! `scripts/services/redis.sh`. Without them the tests are skipped, unless `MEMLANE_REQUIRE_SERVICES=1`.
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use memlane::redis::{RedisConfig, RedisStore};
use memlane::{
    new_id, AddOptions, ErrorKind, MemoryStore, MemoryStoreExt, NewMemory, Scope, SearchMode,
    SearchQuery,
};
use memlane_core::testkit::service_url;
use redis::AsyncCommands;

/// A prefix no other run uses, so that key-level assertions see only this test's keys.
fn fresh_prefix() -> String {
    format!("mltest{}", new_id().simple())
}

fn tenant() -> String {
    format!("t-{}", new_id().simple())
}

async fn open(url: &str, prefix: &str) -> RedisStore {
    let mut c = RedisConfig::from_url(url).expect("a valid URL");
    c.prefix = prefix.to_owned();
    RedisStore::open(c).await.expect("open the Redis store")
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("a Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("a raw connection")
}

fn no_dedup() -> AddOptions {
    AddOptions { dedup: Some(false) }
}

#[tokio::test]
async fn key_layout_is_as_documented() {
    let Some(url) = service_url("MEMLANE_TEST_REDIS_URL") else {
        return;
    };
    let prefix = fresh_prefix();
    let store = open(&url, &prefix).await;
    let mut r = raw(&url).await;
    let t = "acme corp";
    let scope = Scope::tenant(t).with_user("Zoë").with_session("s:1");
    let m = store
        .add(
            vec![NewMemory::new(scope.clone(), "likes tea").ttl(Duration::from_secs(3600))],
            no_dedup(),
        )
        .await
        .expect("add")
        .remove(0)
        .memory;

    let tag = format!("{{{prefix}:acme%20corp}}");
    let key = format!("{tag}:m:{}", m.id);
    assert_eq!(store.memory_key(t, m.id), key);
    let fields: std::collections::HashMap<String, Vec<u8>> =
        r.hgetall(&key).await.expect("hgetall");
    assert_eq!(fields["content"], b"likes tea");
    assert_eq!(fields["user"], "Zoë".as_bytes());
    assert_eq!(fields["version"], b"1");
    assert_eq!(
        fields["scope"],
        format!("{tag}:d:Zo%C3%AB:!:s%3A1").as_bytes()
    );
    let pttl: i64 = r.pttl(&key).await.expect("pttl");
    assert!(pttl > 3_500_000, "the hash expires with the memory: {pttl}");

    let biased = (m.created_at.as_millis() as u64) ^ (1 << 63);
    let member = format!("{biased:016x}:{}", m.id);
    for index in [
        format!("{tag}:i"),
        format!("{tag}:u:Zo%C3%AB"),
        format!("{tag}:s:s%3A1"),
    ] {
        let members: Vec<String> = r.zrange(&index, 0, -1).await.expect("zrange");
        assert_eq!(members, vec![member.clone()], "index {index}");
    }
    let dedup: Vec<String> = r
        .zrange(format!("{tag}:d:Zo%C3%AB:!:s%3A1"), 0, -1)
        .await
        .expect("zrange");
    assert_eq!(dedup, vec![format!("{}:{}", m.content_hash, m.id)]);
    let exp: Option<i64> = r
        .zscore(format!("{tag}:x"), m.id.to_string())
        .await
        .expect("zscore");
    assert_eq!(exp, m.expires_at.map(|e| e.as_millis()));
    let fp: Option<String> = r
        .hget(format!("{tag}:f"), m.id.to_string())
        .await
        .expect("hget");
    assert!(
        fp.is_some_and(|f| f.contains(&member)),
        "the footprint names the index entries"
    );
    let registered: bool = r
        .sismember(format!("{{{prefix}}}:expiring"), t)
        .await
        .expect("sismember");
    assert!(
        registered,
        "the tenant is in the registry of expiring memories"
    );

    // A delete removes every trace.
    store.delete(t, m.id).await.expect("delete");
    let left: Vec<String> = r.keys(format!("{{{prefix}:*")).await.expect("keys");
    assert!(left.is_empty(), "nothing of the tenant is left: {left:?}");
}

/// Every key of one tenant under `prefix`, with the members of its sorted sets and the fields of its hashes.
async fn tenant_keys(
    r: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    tenant: &str,
) -> Vec<String> {
    let mut keys: Vec<String> = r
        .keys(format!("{{{prefix}:{tenant}}}:*"))
        .await
        .expect("keys");
    keys.sort();
    keys
}

#[tokio::test]
async fn expired_memories_leave_no_index_entries() {
    let Some(url) = service_url("MEMLANE_TEST_REDIS_URL") else {
        return;
    };
    let prefix = fresh_prefix();
    let store = open(&url, &prefix).await;
    let mut r = raw(&url).await;
    let (t1, t2) = (tenant(), tenant());
    for t in [&t1, &t2] {
        let batch = (0..5)
            .map(|i| {
                NewMemory::new(
                    Scope::tenant(t.clone()).with_agent("a"),
                    format!("short {i}"),
                )
                .ttl(Duration::from_millis(200))
            })
            .collect();
        store.add(batch, no_dedup()).await.expect("add");
    }
    let keeper = store
        .add_one(NewMemory::new(Scope::tenant(t2.clone()), "stays"))
        .await
        .expect("add");
    tokio::time::sleep(Duration::from_millis(400)).await;

    // Hidden at once, whatever the purge.
    assert_eq!(
        store
            .count(&Scope::tenant(t1.clone()).with_agent("a"), None)
            .await
            .expect("count"),
        0
    );
    // A read of t1 purged t1 lazily: only empty sets are gone, so no key is left.
    assert!(
        tenant_keys(&mut r, &prefix, &t1).await.is_empty(),
        "the lazy purge cleaned t1"
    );

    // t2 is purged by purge_expired, which then drops both tenants from the registry.
    let n = store.purge_expired().await.expect("purge_expired");
    assert_eq!(n, 5, "the five expired memories of t2");
    let left = tenant_keys(&mut r, &prefix, &t2).await;
    let tag = format!("{{{prefix}:{t2}}}");
    assert_eq!(
        left,
        vec![
            format!("{tag}:d:!:!:!"),
            format!("{tag}:i"),
            format!("{tag}:m:{}", keeper.id)
        ],
        "only the lasting memory and its indexes remain"
    );
    let registry: Vec<String> = r
        .smembers(format!("{{{prefix}}}:expiring"))
        .await
        .expect("smembers");
    assert!(
        registry.is_empty(),
        "tenants without expiring memories leave the registry: {registry:?}"
    );
    assert_eq!(store.purge_expired().await.expect("purge again"), 0);
}

#[tokio::test]
async fn prefixes_share_a_server() {
    let Some(url) = service_url("MEMLANE_TEST_REDIS_URL") else {
        return;
    };
    let a = open(&url, &fresh_prefix()).await;
    let b = open(&url, &fresh_prefix()).await;
    let t = tenant();
    let m = a
        .add_one(NewMemory::new(Scope::tenant(t.clone()), "in a"))
        .await
        .expect("add");
    assert_eq!(
        b.get(&t, m.id).await.expect_err("b cannot see a").kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        b.count(&Scope::tenant(t.clone()), None)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        b.forget(&Scope::tenant(t.clone())).await.expect("forget"),
        0
    );
    assert_eq!(a.get(&t, m.id).await.expect("a sees its own"), m);
}

#[tokio::test]
async fn hostile_names_stay_apart() {
    let Some(url) = service_url("MEMLANE_TEST_REDIS_URL") else {
        return;
    };
    let store = open(&url, &fresh_prefix()).await;
    let base = tenant();
    let tenants = [
        base.clone(),
        format!("{base}}}"),
        format!("{base}:x"),
        format!("{base}%3Ax"),
        format!("{{{base}"),
        format!("{base} *?[]"),
    ];
    for t in &tenants {
        for user in ["!", "%21", "a:b", "a", "a}{"] {
            store
                .add_one(NewMemory::new(
                    Scope::tenant(t.clone()).with_user(user),
                    format!("{t}/{user}"),
                ))
                .await
                .expect("add");
        }
    }
    for t in &tenants {
        let all = store
            .list_all(&Scope::tenant(t.clone()), None)
            .await
            .expect("list");
        assert_eq!(all.len(), 5, "tenant {t:?} sees exactly its own");
        for user in ["!", "%21", "a:b", "a", "a}{"] {
            let mine = store
                .list_all(&Scope::tenant(t.clone()).with_user(user), None)
                .await
                .expect("list");
            let contents: Vec<_> = mine.iter().map(|m| m.content.clone()).collect();
            assert_eq!(
                contents,
                vec![format!("{t}/{user}")],
                "user {user:?} of {t:?}"
            );
        }
    }
    assert_eq!(
        store
            .forget(&Scope::tenant(tenants[1].clone()))
            .await
            .expect("forget"),
        5
    );
    assert_eq!(
        store
            .count(&Scope::tenant(tenants[0].clone()), None)
            .await
            .expect("count"),
        5
    );
}

#[tokio::test]
async fn batches_across_tenants() {
    let Some(url) = service_url("MEMLANE_TEST_REDIS_URL") else {
        return;
    };
    let store = open(&url, &fresh_prefix()).await;
    let (a, b) = (Scope::tenant(tenant()), Scope::tenant(tenant()));
    let existing = store
        .add_one(NewMemory::new(b.clone(), "b's"))
        .await
        .expect("add");
    // Standalone: one script for both tenants, so a conflict in b stores nothing in a either.
    let err = store
        .add(
            vec![
                NewMemory::new(a.clone(), "a's new"),
                NewMemory::new(b.clone(), "other content").id(existing.id),
            ],
            no_dedup(),
        )
        .await
        .expect_err("a conflict");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        store.count(&a, None).await.expect("count"),
        0,
        "all or nothing across tenants"
    );
    let ok = store
        .add(
            vec![
                NewMemory::new(a.clone(), "one"),
                NewMemory::new(b.clone(), "two"),
            ],
            no_dedup(),
        )
        .await
        .expect("a batch of two tenants");
    assert!(ok.iter().all(|x| x.created));

    let Some(cluster_url) = service_url("MEMLANE_TEST_REDIS_CLUSTER_URL") else {
        return;
    };
    let cluster = memlane::open(&cluster_url)
        .await
        .expect("open the cluster store");
    let err = cluster
        .add(
            vec![
                NewMemory::new(a.clone(), "one"),
                NewMemory::new(b.clone(), "two"),
            ],
            no_dedup(),
        )
        .await
        .expect_err("a cluster batch spans one slot");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn search_is_unsupported() {
    let Some(url) = service_url("MEMLANE_TEST_REDIS_URL") else {
        return;
    };
    let store = memlane::open(&url).await.expect("open");
    let caps = store.capabilities();
    assert!(caps.ttl && caps.transactions && !caps.keyword_search && !caps.semantic_search);
    let scope = Scope::tenant(tenant());
    for mode in [
        SearchMode::Keyword,
        SearchMode::Semantic,
        SearchMode::Hybrid,
    ] {
        let err = store
            .search(&SearchQuery::new(scope.clone(), "tea").mode(mode))
            .await
            .expect_err("unsupported");
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    }
    let err = store
        .search(&SearchQuery::new(scope, " "))
        .await
        .expect_err("invalid first");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "bad input is refused before anything else"
    );
}

#[tokio::test]
async fn urls_are_checked() {
    for (url, kind) in [
        ("redis://127.0.0.1:1?nope=1", ErrorKind::InvalidInput),
        ("redis://127.0.0.1:1?prefix=a{b}", ErrorKind::InvalidInput),
        ("redis://a:1,b:2", ErrorKind::InvalidInput),
        ("redis://127.0.0.1:1?timeout_ms=x", ErrorKind::InvalidInput),
        ("redis://127.0.0.1:1?timeout_ms=300", ErrorKind::Unavailable),
        (
            "rediss://127.0.0.1:1?timeout_ms=300",
            ErrorKind::Unavailable,
        ),
        (
            "redis://127.0.0.1:1,127.0.0.1:2?cluster=true&timeout_ms=300",
            ErrorKind::Unavailable,
        ),
    ] {
        let start = Instant::now();
        let err = memlane::open(url).await.expect_err(url);
        assert_eq!(err.kind(), kind, "{url}: {err}");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{url} took {:?}",
            start.elapsed()
        );
    }
}

/// A server that accepts connections and never answers: every operation fails as unavailable within its timeout.
#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accept = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let start = Instant::now();
    let err = memlane::open(&format!("redis://127.0.0.1:{port}?timeout_ms=300"))
        .await
        .expect_err("no answer");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(
        start.elapsed() < Duration::from_millis(2000),
        "took {:?}",
        start.elapsed()
    );
    accept.abort();
}

#[tokio::test]
async fn an_expired_id_can_be_reused() {
    let Some(url) = service_url("MEMLANE_TEST_REDIS_URL") else {
        return;
    };
    let prefix = fresh_prefix();
    let store = open(&url, &prefix).await;
    let mut r = raw(&url).await;
    let t = tenant();
    let id = new_id();
    store
        .add(
            vec![
                NewMemory::new(Scope::tenant(t.clone()).with_user("old"), "first life")
                    .id(id)
                    .ttl(Duration::from_millis(150)),
            ],
            no_dedup(),
        )
        .await
        .expect("add");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // No read in between: the old entries are still there when the id comes back with other content and scope.
    let again = store
        .add(
            vec![NewMemory::new(Scope::tenant(t.clone()).with_session("s"), "second life").id(id)],
            no_dedup(),
        )
        .await
        .expect("re-add an expired id");
    assert!(again[0].created, "an expired memory's id is free again");
    let m = store.get(&t, id).await.expect("get");
    assert_eq!((m.content.as_str(), m.expires_at), ("second life", None));
    let tag = format!("{{{prefix}:{t}}}");
    assert_eq!(
        tenant_keys(&mut r, &prefix, &t).await,
        vec![
            format!("{tag}:d:!:!:s"),
            format!("{tag}:i"),
            format!("{tag}:m:{id}"),
            format!("{tag}:s:s")
        ],
        "nothing of the first life is left"
    );
    let index: Vec<String> = r.zrange(format!("{tag}:i"), 0, -1).await.expect("zrange");
    assert_eq!(index.len(), 1, "one index entry for the id: {index:?}");

    // An import of a memory that had already expired is accepted and never seen.
    let mut gone = NewMemory::new(Scope::tenant(t.clone()), "expired before the import");
    gone.created_at = Some(memlane::Timestamp::from_millis(1_000));
    gone.expires_at = Some(memlane::Timestamp::from_millis(2_000));
    let added = store
        .add(vec![gone], no_dedup())
        .await
        .expect("import an expired memory");
    assert!(added[0].created);
    assert_eq!(
        store
            .count(&Scope::tenant(t.clone()), None)
            .await
            .expect("count"),
        1
    );
    assert!(store.get(&t, added[0].memory.id).await.is_err());
}
