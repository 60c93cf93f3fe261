//! Metrics at `/metrics`. (Request spans in JSON logs: `tests/logs.rs`, a process of its own.)

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{keyed_config, TestServer, KEY_A};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_expose_the_histograms() {
    let s = TestServer::start(keyed_config()).await;
    let m = s
        .post(
            "/v1/memories",
            KEY_A,
            json!({"memories": [{"content": "measure me"}]}),
        )
        .await;
    let id = m.json["results"][0]["memory"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.get(&format!("/v1/memories/{id}"), KEY_A).await;
    s.get("/v1/memories/019abf2c-7d1e-7c3a-9f00-5b1e2d3c4a5b", KEY_A)
        .await;
    let res = s.client.get(s.url("/metrics")).send().await.expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("application/openmetrics-text"));
    let text = res.text().await.expect("text");
    for needle in [
        "memlane_http_request_duration_seconds_bucket{le=\"+Inf\",method=\"POST\",route=\"/v1/memories\",status=\"200\"} 1",
        "memlane_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/memories/{id}\",status=\"404\"} 1",
        "memlane_store_operation_duration_seconds_bucket{le=\"+Inf\",backend=\"embedded\",operation=\"add\",outcome=\"ok\"} 1",
        "memlane_store_errors_total{backend=\"embedded\",operation=\"get\",kind=\"not_found\"} 1",
        "memlane_backend_up{backend=\"embedded\"} 1",
        "memlane_ttl_purge_interval_seconds 60",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(!text.contains("tenant"), "no tenant label: {text}");
    s.stop().await.expect("stop");
}
