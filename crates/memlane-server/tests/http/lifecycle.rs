//! Binding rules, graceful shutdown, load shedding and timeouts.

use std::time::{Duration, Instant};

use memlane::ErrorKind;
use memlane_server::ServerConfig;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{answer, keyed_config, SlowStore, TestServer, KEY_A};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_keys_refuses_a_public_address() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = ServerConfig::default().with_store(dir.path().display().to_string());
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0")
        .await
        .expect("bind");
    let err = memlane_server::run(listener, config, std::future::pending())
        .await
        .expect_err("must refuse");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let msg = err.to_string();
    assert!(msg.contains("without API keys"), "{msg}");
    assert!(msg.contains("MEMLANE_API_KEYS"), "{msg}");

    // With keys, the same address is fine.
    let config = keyed_config().with_store(dir.path().display().to_string());
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0")
        .await
        .expect("bind");
    memlane_server::run(listener, config, async {})
        .await
        .expect("serves and stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_in_flight_requests() {
    let (slow, started) = SlowStore::wrap(Duration::from_millis(800));
    let mut s = TestServer::start_with(keyed_config(), slow).await;
    let request = s
        .client
        .post(s.url("/v1/count"))
        .bearer_auth(KEY_A)
        .json(&json!({}))
        .send();
    let in_flight = tokio::spawn(request);
    started.notified().await;
    s.trigger_shutdown();
    let res = in_flight
        .await
        .expect("task")
        .expect("the in-flight request completes");
    let res = answer(res).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json["count"], 0);
    s.join().await.expect("clean stop");
    // Nothing listens any more.
    let after = reqwest::Client::new()
        .get(s.url("/health/live"))
        .send()
        .await;
    assert!(after.is_err(), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_within_the_grace_period() {
    let mut config = keyed_config();
    config.shutdown_grace = Duration::from_millis(300);
    config.request_timeout = Duration::from_secs(60);
    let (slow, started) = SlowStore::wrap(Duration::from_secs(30));
    let mut s = TestServer::start_with(config, slow).await;
    let stuck = s
        .client
        .post(s.url("/v1/count"))
        .bearer_auth(KEY_A)
        .json(&json!({}))
        .send();
    let _stuck = tokio::spawn(stuck);
    started.notified().await;
    let start = Instant::now();
    s.trigger_shutdown();
    s.join().await.expect("stops");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_shed_with_retry_after() {
    let mut config = keyed_config();
    config.max_concurrency = 1;
    config.retry_after = Duration::from_secs(2);
    let (slow, started) = SlowStore::wrap(Duration::from_millis(1000));
    let s = TestServer::start_with(config, slow).await;
    let first = tokio::spawn(
        s.client
            .post(s.url("/v1/count"))
            .bearer_auth(KEY_A)
            .json(&json!({}))
            .send(),
    );
    started.notified().await;
    let shed = s.post("/v1/count", KEY_A, json!({})).await;
    assert_eq!(
        shed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        shed.text
    );
    assert_eq!(shed.code(), "unavailable");
    assert_eq!(shed.headers["retry-after"], "2");
    // Health is not behind the limit.
    let live = s
        .client
        .get(s.url("/health/live"))
        .send()
        .await
        .expect("send");
    assert_eq!(live.status(), StatusCode::OK);
    let first = first.await.expect("task").expect("send");
    assert_eq!(first.status(), StatusCode::OK);
    s.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out_with_503() {
    let mut config = keyed_config();
    config.request_timeout = Duration::from_millis(200);
    let (slow, _started) = SlowStore::wrap(Duration::from_secs(5));
    let s = TestServer::start_with(config, slow).await;
    let start = Instant::now();
    let a = s.post("/v1/count", KEY_A, json!({})).await;
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.code(), "unavailable");
    assert_eq!(a.headers["retry-after"], "1");
    s.stop().await.expect("stop");
}
