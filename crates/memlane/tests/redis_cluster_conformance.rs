//! The conformance suite against a Redis Cluster of three masters, named by `MEMLANE_TEST_REDIS_CLUSTER_URL` (which
//! `scripts/services/redis.sh start` writes). Without it every test is skipped with a message, unless
//! `MEMLANE_REQUIRE_SERVICES=1`. (The factory is a block: its `return` skips the test before any store is made.)
#![cfg(feature = "redis")]
memlane::conformance_tests!({
    let Some(url) = memlane_core::testkit::service_url("MEMLANE_TEST_REDIS_CLUSTER_URL") else {
        return;
    };
    move || async move {
        memlane::open(&memlane_core::testkit::with_option(&url, "embedder=none"))
            .await
            .expect("open the Redis Cluster store")
    }
});
