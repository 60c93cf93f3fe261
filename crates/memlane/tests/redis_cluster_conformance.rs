//! The conformance suite against a Redis Cluster of three masters, named by `MEMLANE_TEST_REDIS_CLUSTER_URL` (which
//! `scripts/services/redis.sh start` writes). Without it every test is skipped with a message, unless
//! `MEMLANE_REQUIRE_SERVICES=1`. (The factory is a block: its `return` skips the test before any store is made.)
#![cfg(feature = "redis")]
memlane::conformance_tests!({
    let Some(url) = service_url("MEMLANE_TEST_REDIS_CLUSTER_URL") else {
        return;
    };
    move || async move {
        memlane::open(&no_embedder(&url))
            .await
            .expect("open the Redis Cluster store")
    }
});

/// The URL in `var`, or `None` (with a message) to skip; panics when services are required.
fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("MEMLANE_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{var} is not set and MEMLANE_REQUIRE_SERVICES=1: run scripts/services/redis.sh start")
        }
        _ => {
            eprintln!("skipped: {var} is not set (scripts/services/redis.sh start sets it)");
            None
        }
    }
}

/// The suite brings its own vectors: the URL with the factory's embedder turned off.
fn no_embedder(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}embedder=none")
}
