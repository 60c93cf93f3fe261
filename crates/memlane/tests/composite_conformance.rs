//! The whole conformance suite, unchanged, against the composite store over real servers: PostgreSQL with pgvector
//! and `outbox=true` as the record of truth (`MEMLANE_TEST_POSTGRES_URL`) and Redis as the cache
//! (`MEMLANE_TEST_REDIS_URL`), all tiers up; and again with the cache tier down (a Redis URL where no server
//! listens). Skipped, with a message, when the variables are missing (unless `MEMLANE_REQUIRE_SERVICES=1`).
#![cfg(all(feature = "composite", feature = "postgres", feature = "redis"))]

use std::sync::Arc;

use memlane::composite::{CompositeConfig, CompositeStore};

/// The URL in `var`; when it is missing the whole test binary ends here, successfully, after saying why (every
/// test in it needs the servers), or fails with `MEMLANE_REQUIRE_SERVICES=1`.
fn url(var: &str) -> String {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{var} is not set and MEMLANE_REQUIRE_SERVICES=1: start scripts/services/*.sh")
        }
        _ => {
            let msg = format!("skipping: {var} is not set (see scripts/services/)\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), msg.as_bytes());
            std::process::exit(0)
        }
    }
}

fn with(url: &str, opts: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{opts}")
}

/// A loopback port where nothing listens: a Redis server that is down.
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("addr")
        .port()
}

async fn open(cache_url: &str, cache_name: &str) -> Arc<CompositeStore> {
    let pg = with(
        &url("MEMLANE_TEST_POSTGRES_URL"),
        "outbox=true&pgvector=true",
    );
    let text = format!(
        "[tiers.{cache_name}]\nurl = {cache_url:?}\nrole = \"cache\"\ntimeout_ms = 1000\n\
         [tiers.records]\nurl = {pg:?}\nrole = \"record\"\ntimeout_ms = 10000\n"
    );
    let config = CompositeConfig::from_toml(&text).expect("config");
    Arc::new(
        CompositeStore::open(config)
            .await
            .expect("open the composite store"),
    )
}

mod all_tiers_up {
    memlane::conformance_tests!(|| async {
        let redis = super::url("MEMLANE_TEST_REDIS_URL");
        let store = super::open(&super::with(&redis, "prefix=composite-test"), "cache").await;
        // Other tests replay the shared outbox too: the cache may wait its turn before it is caught up.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while store.fresh_tiers().len() < 2 && std::time::Instant::now() < deadline {
            store.catch_up().await;
        }
        assert_eq!(store.fresh_tiers(), ["records", "cache"], "the cache is up");
        store
    });
}

mod cache_down {
    memlane::conformance_tests!(|| async {
        let dead = format!("redis://127.0.0.1:{}?timeout_ms=200", super::dead_port());
        let store = super::open(&dead, "cache_down").await;
        assert_eq!(store.fresh_tiers(), ["records"], "the cache is down");
        store
    });
}
